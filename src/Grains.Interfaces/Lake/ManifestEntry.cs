using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>One lake file as the manifest lists it.</summary>
/// <param name="Key">Object key of the data file.</param>
/// <param name="Source">Source id.</param>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="Partition">Stream partition.</param>
/// <param name="Rows">Change events in the file.</param>
/// <param name="Bytes">Size of the stored (compressed) object.</param>
/// <param name="First">Position of the first change.</param>
/// <param name="Last">Position of the last change.</param>
/// <param name="MinCommitTime">Earliest commit time in the file.</param>
/// <param name="MaxCommitTime">Latest commit time in the file.</param>
/// <param name="WrittenAt">When the file was written.</param>
/// <param name="SchemaVersion">Version of the table schema every change in the file has (see the schemas endpoint).</param>
/// <param name="Format">Encoding of the data file; entries written before formats existed read as <see cref="LakeFormat.JsonLines"/>.</param>
[GenerateSerializer, Immutable, Alias("saiki.manifest-entry")]
public sealed record ManifestEntry(
    [property: Id(0)] string Key,
    [property: Id(1)] string Source,
    [property: Id(2)] string Table,
    [property: Id(3)] int Partition,
    [property: Id(4)] int Rows,
    [property: Id(5)] long Bytes,
    [property: Id(6)] Position First,
    [property: Id(7)] Position Last,
    [property: Id(8)] DateTimeOffset MinCommitTime,
    [property: Id(9)] DateTimeOffset MaxCommitTime,
    [property: Id(10)] DateTimeOffset WrittenAt,
    [property: Id(11)] string SchemaVersion,
    [property: Id(12)] LakeFormat Format = LakeFormat.JsonLines)
{
    /// <summary>Compaction level: 0 for a flushed file, one more than its inputs' for a file compaction wrote.</summary>
    [Id(13)] public int Level { get; init; }

    /// <summary>Keys of the files a compacted file holds the rows of, in order (their manifest entries go once it is recorded).</summary>
    [Id(14)] public IReadOnlyList<string> Replaces { get; init; } = [];
}

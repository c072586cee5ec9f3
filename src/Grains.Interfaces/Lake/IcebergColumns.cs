using Orleans;

namespace Saiki.Orleans.Lake;

/// <summary>
/// How the columns of one source schema version are written into an Iceberg table: the Iceberg field id and type of
/// each source column (aligned with <see cref="Changes.TableSchema.Columns"/>), and the table schema those ids belong
/// to, as Iceberg JSON (written into every data file's footer, where readers map columns by field id).
/// The table's committer assigns them, so every partition writes a column under the same id.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.iceberg-columns")]
public sealed record IcebergColumns(
    [property: Id(0)] string SchemaVersion,
    [property: Id(1)] int SchemaId,
    [property: Id(2)] IReadOnlyList<int> FieldIds,
    [property: Id(3)] IReadOnlyList<string> Types,
    [property: Id(4)] string SchemaJson);

/// <summary>A data file a partition wrote for an Iceberg table and hands to the table's committer.</summary>
/// <param name="Key">Object key of the file in the lake.</param>
/// <param name="Partition">Lake partition that wrote it (-1 for snapshot chunks).</param>
/// <param name="First">Position of its first change.</param>
/// <param name="Last">Position of its last change.</param>
/// <param name="Rows">Rows (changes) it holds.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="MinCommitTime">Earliest commit time in it.</param>
/// <param name="MaxCommitTime">Latest commit time in it.</param>
/// <param name="SchemaVersion">Source schema version it holds (see <see cref="IcebergColumns"/>).</param>
/// <param name="ValueCounts">Values per field id (nulls included).</param>
/// <param name="NullCounts">Nulls per field id.</param>
/// <param name="ColumnSizes">Compressed bytes per field id.</param>
[GenerateSerializer, Immutable, Alias("saiki.iceberg-file")]
public sealed record IcebergFile(
    [property: Id(0)] string Key,
    [property: Id(1)] int Partition,
    [property: Id(2)] Changes.Position First,
    [property: Id(3)] Changes.Position Last,
    [property: Id(4)] long Rows,
    [property: Id(5)] long Bytes,
    [property: Id(6)] DateTimeOffset MinCommitTime,
    [property: Id(7)] DateTimeOffset MaxCommitTime,
    [property: Id(8)] string SchemaVersion,
    [property: Id(9)] IReadOnlyDictionary<int, long> ValueCounts,
    [property: Id(10)] IReadOnlyDictionary<int, long> NullCounts,
    [property: Id(11)] IReadOnlyDictionary<int, long> ColumnSizes)
{
    /// <summary>Rows of earlier files (or of this one) that this file's changes made dead: the mirror table's position deletes.</summary>
    [Id(12)] public IReadOnlyList<RowRef> Deletes { get; init; } = [];

    /// <summary>True for a hand-over that carries only <see cref="Deletes"/> (a partition's deletes among snapshot rows), no data file.</summary>
    [Id(13)] public bool DeletesOnly { get; init; }

    /// <summary>For a compacted file, the files it replaces in both tables (it holds their rows, in order).</summary>
    [Id(14)] public IReadOnlyList<string> Replaces { get; init; } = [];

    /// <summary>Per field id, the smallest value of the column (Iceberg's single-value binary form), for the columns that have one.</summary>
    [Id(15)] public IReadOnlyDictionary<int, byte[]> LowerBounds { get; init; } = new Dictionary<int, byte[]>();

    /// <summary>Per field id, the largest value, as <see cref="LowerBounds"/>.</summary>
    [Id(16)] public IReadOnlyDictionary<int, byte[]> UpperBounds { get; init; } = new Dictionary<int, byte[]>();

    /// <summary>The file a manifest entry lists, without column metrics (which Iceberg does not require).</summary>
    public static IcebergFile Of(ManifestEntry entry) => new(
        entry.Key, entry.Partition, entry.First, entry.Last, entry.Rows, entry.Bytes, entry.MinCommitTime, entry.MaxCommitTime, entry.SchemaVersion,
        new Dictionary<int, long>(), new Dictionary<int, long>(), new Dictionary<int, long>()) { Replaces = entry.Replaces };
}

/// <summary>A row of a lake data file: its key and zero-based row number.</summary>
[GenerateSerializer, Immutable, Alias("saiki.row-ref")]
public sealed record RowRef([property: Id(0)] string File, [property: Id(1)] long Row);

using Orleans;
using Orleans.Concurrency;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// The one committer of a lake table's Iceberg tables (key <c>{source}|{schema.table}</c>): it gives every column its
/// field id, takes the data files the table's partitions write, and commits them as Iceberg snapshots, on time or
/// size. A file handed over is durable: it is in the committer's saved state, and will be committed exactly once.
/// </summary>
[Alias("saiki.lake-table")]
public interface ILakeTableGrain : IGrainWithStringKey
{
    /// <summary>Field ids and types of a source schema version, first seen at <paramref name="firstSeen"/>.</summary>
    [Alias("columns")]
    Task<IcebergColumns> ColumnsAsync(TableSchema schema, Position firstSeen);

    /// <summary>Takes written data files for the next commit; returns once they are in the committer's saved state.
    /// A file whose positions the table already holds is ignored, so handing a file over twice is harmless.
    /// It interleaves with a running commit, so a partition's acknowledgement never waits for one.</summary>
    [Alias("hand-over"), AlwaysInterleave]
    Task HandOverAsync(IReadOnlyList<IcebergFile> files);

    /// <summary>The last position of partition <paramref name="partition"/> the table holds, committed or handed over (null: none):
    /// a writer that died between a hand-over and saving its own state finds there what is already durable.</summary>
    [Alias("held"), AlwaysInterleave]
    Task<Position?> HeldAsync(int partition);

    /// <summary>Commits what is waiting now (otherwise it is committed on the commit interval or once enough waits).</summary>
    [Alias("commit")]
    Task CommitAsync();

    /// <summary>The current metadata file's location and JSON of the mirror (or the changelog), or null before the first commit (the REST catalog's answer).</summary>
    [Alias("metadata")]
    Task<(string Location, string Json)?> MetadataAsync(bool mirror);

    /// <summary>The table's Iceberg state: where its metadata is, its current snapshot, what waits.</summary>
    [Alias("get")]
    Task<LakeTableInfo> GetAsync();
}

/// <summary>A lake table's Iceberg state.</summary>
/// <param name="Source">Source id.</param>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="MetadataLocation">URI of the changelog's current metadata file; null before the first commit.</param>
/// <param name="MirrorMetadataLocation">URI of the mirror's current metadata file; null before the first commit.</param>
/// <param name="SnapshotId">Current snapshot; null before the first commit.</param>
/// <param name="Snapshots">Snapshots kept in the metadata.</param>
/// <param name="DataFiles">Live data files of the current snapshot.</param>
/// <param name="Rows">Rows in the current snapshot.</param>
/// <param name="DeleteFiles">Live position-delete files of the mirror.</param>
/// <param name="PendingFiles">Files handed over and not yet committed.</param>
/// <param name="LastCommit">When the last snapshot was committed.</param>
/// <param name="Alerts">Schema changes an operator should know about (a type Iceberg cannot promote).</param>
/// <param name="LastError">Why the last commit attempt failed (the files wait and the next attempt retries); null once a commit succeeds.</param>
[GenerateSerializer, Immutable, Alias("saiki.lake-table-info")]
public sealed record LakeTableInfo(
    [property: Id(0)] string Source,
    [property: Id(1)] string Table,
    [property: Id(2)] string? MetadataLocation,
    [property: Id(10)] string? MirrorMetadataLocation,
    [property: Id(3)] long? SnapshotId,
    [property: Id(4)] int Snapshots,
    [property: Id(5)] long DataFiles,
    [property: Id(6)] long Rows,
    [property: Id(11)] long DeleteFiles,
    [property: Id(7)] int PendingFiles,
    [property: Id(8)] DateTimeOffset? LastCommit,
    [property: Id(9)] IReadOnlyList<string> Alerts,
    [property: Id(12)] string? LastError = null);

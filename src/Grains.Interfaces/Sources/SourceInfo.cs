using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>What a source is and how far its capture has come.</summary>
/// <param name="Id">Source id.</param>
/// <param name="Kind">Source kind, e.g. <c>postgres</c>.</param>
/// <param name="Tables">Captured tables (<c>schema.table</c>).</param>
/// <param name="Partitions">Stream partitions per table.</param>
/// <param name="State">Life-cycle state.</param>
/// <param name="Error">Why the source failed or last reconnected; null when healthy.</param>
/// <param name="Slot">Replication slot name.</param>
/// <param name="Publication">Publication name.</param>
/// <param name="ConfirmedLsn">LSN confirmed to PostgreSQL: everything committed at or before it is durable in the lake.</param>
/// <param name="ChangesCaptured">Changes read from the source since registration (replays included).</param>
/// <param name="ChangesDurable">Changes written to the lake (replays excluded).</param>
/// <param name="FilesWritten">Lake files written.</param>
/// <param name="LagBytes">WAL bytes between the server's current LSN and <paramref name="ConfirmedLsn"/>, when known.</param>
/// <param name="LastCommitTime">Commit time of the newest captured transaction.</param>
/// <param name="RegisteredAt">When the source was accepted.</param>
/// <param name="Snapshot">Initial snapshot progress per table (empty when the source takes no snapshot).</param>
/// <param name="RetainedWalBytes">WAL the slot keeps on the source server, when known.</param>
/// <param name="LagSeconds">Age of the oldest committed change not yet durable (0 when caught up).</param>
/// <param name="Alerts">Conditions an operator should act on, e.g. retained WAL over its limit.</param>
/// <param name="CompleteUpTo">Every change committed at or before this time is in the lake (and on the bus), for every
/// table whose snapshot is complete; null until known.</param>
[GenerateSerializer, Immutable, Alias("saiki.source-info")]
public sealed record SourceInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Kind,
    [property: Id(2)] IReadOnlyList<string> Tables,
    [property: Id(3)] int Partitions,
    [property: Id(4)] SourceState State,
    [property: Id(5)] string? Error,
    [property: Id(6)] string Slot,
    [property: Id(7)] string Publication,
    [property: Id(8)] string ConfirmedLsn,
    [property: Id(9)] long ChangesCaptured,
    [property: Id(10)] long ChangesDurable,
    [property: Id(11)] long FilesWritten,
    [property: Id(12)] long? LagBytes,
    [property: Id(13)] DateTimeOffset? LastCommitTime,
    [property: Id(14)] DateTimeOffset RegisteredAt,
    [property: Id(15)] IReadOnlyList<TableSnapshotInfo> Snapshot,
    [property: Id(16)] long? RetainedWalBytes,
    [property: Id(17)] double LagSeconds,
    [property: Id(18)] IReadOnlyList<string> Alerts,
    [property: Id(19)] DateTimeOffset? CompleteUpTo);

/// <summary>Initial snapshot progress of one table.</summary>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="ChunksDone">Chunks whose rows are durable in the lake.</param>
/// <param name="ChunksTotal">Chunks the table was split into.</param>
/// <param name="Rows">Rows read so far.</param>
/// <param name="RowsPerSecond">Rows per second since the snapshot started.</param>
[GenerateSerializer, Immutable, Alias("saiki.table-snapshot-info")]
public sealed record TableSnapshotInfo(
    [property: Id(0)] string Table,
    [property: Id(1)] int ChunksDone,
    [property: Id(2)] int ChunksTotal,
    [property: Id(3)] long Rows,
    [property: Id(4)] double RowsPerSecond)
{
    /// <summary>True when every chunk is durable.</summary>
    public bool Completed => ChunksDone == ChunksTotal;
}

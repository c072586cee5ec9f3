using Microsoft.Extensions.Logging;

namespace Saiki.Orleans.Diagnostics;

internal static partial class CaptureLog
{
    [LoggerMessage(1001, LogLevel.Error, "Source {SourceId}: replication reader stopped")]
    public static partial void ReaderFailed(ILogger logger, string sourceId, Exception exception);
}

internal static partial class SourceLog
{
    [LoggerMessage(1101, LogLevel.Information, "Source {SourceId}: registered, tables {Tables}, {Partitions} partitions each")]
    public static partial void Registered(ILogger logger, string sourceId, string tables, int partitions);

    [LoggerMessage(1102, LogLevel.Information, "Source {SourceId}: capture started (epoch {Epoch})")]
    public static partial void CaptureStarted(ILogger logger, string sourceId, long epoch);

    [LoggerMessage(1103, LogLevel.Warning, "Source {SourceId}: capture restarting from the confirmed position in {Delay}: {Reason}")]
    public static partial void CaptureRestarting(ILogger logger, string sourceId, TimeSpan delay, string reason);

    [LoggerMessage(1104, LogLevel.Error, "Source {SourceId}: failed: {Reason}")]
    public static partial void Failed(ILogger logger, string sourceId, string reason);

    [LoggerMessage(1105, LogLevel.Information, "Source {SourceId}: removed; slot and publication dropped")]
    public static partial void Removed(ILogger logger, string sourceId);

    [LoggerMessage(1107, LogLevel.Warning, "Source {SourceId}: {Alert}")]
    public static partial void Alert(ILogger logger, string sourceId, string alert);

    [LoggerMessage(1108, LogLevel.Information, "Source {SourceId}: tables {Tables} added; snapshotting them between stream watermarks")]
    public static partial void TablesAdded(ILogger logger, string sourceId, string tables);

    [LoggerMessage(1109, LogLevel.Information, "Source {SourceId}: capture paused at {Position}; the source keeps the changes until it is resumed")]
    public static partial void Paused(ILogger logger, string sourceId, string position);

    [LoggerMessage(1110, LogLevel.Information, "Source {SourceId}: capture resumed")]
    public static partial void Resumed(ILogger logger, string sourceId);

    [LoggerMessage(1111, LogLevel.Warning, "Source {SourceId}: refused an acknowledgement of {Position} from {Partition} (epoch {Epoch}): this capture run emitted nothing that far to it")]
    public static partial void AcknowledgementRefused(ILogger logger, string sourceId, string partition, string position, long epoch);

    [LoggerMessage(1106, LogLevel.Information, "Source {SourceId}: {Rate:F0} changes/s captured, confirmed {Lsn}, {Pending} changes awaiting durability")]
    public static partial void Progress(ILogger logger, string sourceId, double rate, string lsn, long pending);
}

internal static partial class LakeLog
{
    [LoggerMessage(1211, LogLevel.Information, "Lake table {Table}: committed Iceberg metadata v{Version}, snapshot {SnapshotId}: {Files} files, {Rows} rows")]
    public static partial void IcebergCommitted(ILogger logger, string table, int version, long snapshotId, int files, long rows);

    [LoggerMessage(1212, LogLevel.Warning, "Lake table {Table}: Iceberg commit of {Files} waiting files failed; retrying")]
    public static partial void IcebergCommitFailed(ILogger logger, string table, int files, Exception error);

    [LoggerMessage(1214, LogLevel.Warning, "Lake table {Table}: could not delete expired file {Key}; trying again at the next commit")]
    public static partial void IcebergPurgeFailed(ILogger logger, string table, string key, Exception error);

    [LoggerMessage(1217, LogLevel.Information, "Lake table {Table}: deleted {Files} files that failed or interrupted commits left behind")]
    public static partial void IcebergSwept(ILogger logger, string table, int files);

    [LoggerMessage(1218, LogLevel.Warning, "Lake table {Table}: could not delete the files failed commits left behind; trying again after the next commit")]
    public static partial void IcebergSweepFailed(ILogger logger, string table, Exception error);

    [LoggerMessage(1215, LogLevel.Information, "Partition {Partition}: compacted {Files} files ({Rows} changes, level {Level}) into {Key} in {Milliseconds:F0} ms")]
    public static partial void Compacted(ILogger logger, string partition, int files, long rows, int level, string key, double milliseconds);

    [LoggerMessage(1216, LogLevel.Warning, "Partition {Partition}: compaction of {Files} files failed; the files stay as they are")]
    public static partial void CompactionFailed(ILogger logger, string partition, int files, Exception error);

    [LoggerMessage(1213, LogLevel.Warning, "Lake table {Table}: {Alert}")]
    public static partial void IcebergSchemaAlert(ILogger logger, string table, string alert);

    [LoggerMessage(1201, LogLevel.Debug, "Partition {Partition}: wrote {Rows} changes to {Key}")]
    public static partial void Flushed(ILogger logger, string partition, int rows, string key);

    [LoggerMessage(1202, LogLevel.Warning, "Partition {Partition}: lake write failed, {Rows} changes kept for retry")]
    public static partial void FlushFailed(ILogger logger, string partition, int rows, Exception exception);

    [LoggerMessage(1203, LogLevel.Warning, "Partition {Partition}: batch {Epoch}/{Sequence} arrived while {ExpectedEpoch}/{ExpectedSequence} was expected; asking the source to replay")]
    public static partial void Gap(ILogger logger, string partition, long epoch, long sequence, long expectedEpoch, long expectedSequence);

    [LoggerMessage(1204, LogLevel.Information, "Partition {Partition}: recovered durable position {Position} from the manifest, removed {Orphans} unlisted data files")]
    public static partial void Recovered(ILogger logger, string partition, string position, int orphans);

    [LoggerMessage(1205, LogLevel.Debug, "Lake: {Key} uploaded in {Parts} parts ({Bytes} bytes, {Milliseconds:F0} ms)")]
    public static partial void MultipartUploaded(ILogger logger, string key, long bytes, int parts, double milliseconds);

    [LoggerMessage(1206, LogLevel.Warning, "Lake: aborting the failed multipart upload {UploadId} of {Key} failed; a lifecycle rule for incomplete uploads must remove its parts")]
    public static partial void AbortFailed(ILogger logger, string key, string uploadId, Exception exception);
}

internal static partial class SnapshotLog
{
    [LoggerMessage(1301, LogLevel.Information, "Source {SourceId}: snapshot of {Chunks} chunks over {Tables} tables from consistent point {Lsn}")]
    public static partial void Planned(ILogger logger, string sourceId, int chunks, int tables, string lsn);

    [LoggerMessage(1302, LogLevel.Information, "Source {SourceId}: snapshot {Done}/{Total} chunks, {Rows} rows, {Rate:F0} rows/s")]
    public static partial void Progress(ILogger logger, string sourceId, int done, int total, long rows, double rate);

    [LoggerMessage(1303, LogLevel.Warning, "Source {SourceId}: snapshot chunk {Chunk} failed, retrying")]
    public static partial void ChunkFailed(ILogger logger, string sourceId, int chunk, Exception exception);

    [LoggerMessage(1304, LogLevel.Warning, "Source {SourceId}: exported snapshot no longer available for chunk {Chunk} ({Reason}); reading a fresh snapshot")]
    public static partial void ExportGone(ILogger logger, string sourceId, int chunk, string reason);

    [LoggerMessage(1305, LogLevel.Information, "Source {SourceId}: snapshot complete, {Rows} rows in {Seconds:F1} s; streaming from {Lsn}")]
    public static partial void Completed(ILogger logger, string sourceId, long rows, double seconds, string lsn);
}

internal static partial class ClusterLog
{
    [LoggerMessage(1401, LogLevel.Information, "Cluster schema: {Scripts} scripts applied to database {Database}")]
    public static partial void SchemaApplied(ILogger logger, int scripts, string database);
}

internal static partial class ProcessLog
{
    [LoggerMessage(1501, LogLevel.Warning, "Process {Process}: a breach could not be delivered to {Target}; it stays queryable")]
    public static partial void BreachNotDelivered(ILogger logger, string process, string target, Exception exception);

    [LoggerMessage(1502, LogLevel.Warning, "Partition {Partition}: routing {Events} events to process monitoring failed")]
    public static partial void RoutingFailed(ILogger logger, string partition, int events, Exception exception);

    [LoggerMessage(1504, LogLevel.Warning, "Process {Process}: {Limit} breaches wait for delivery already; this one is not announced (it stays queryable)")]
    public static partial void BreachQueueFull(ILogger logger, string process, int limit);

    [LoggerMessage(1503, LogLevel.Information, "Process {Process} registered with {Steps} steps over {Partitions} partitions")]
    public static partial void Registered(ILogger logger, string process, int steps, int partitions);
}

internal static partial class DynamoLog
{
    [LoggerMessage(1601, LogLevel.Warning, "DynamoDB shard {ShardId}: throttled ({ErrorCode}); retrying in {Delay}")]
    public static partial void Throttled(ILogger logger, string shardId, TimeSpan delay, string errorCode);

    [LoggerMessage(1602, LogLevel.Information, "Source {SourceId}: DynamoDB table {Table}, stream {StreamArn}, {Shards} shards; snapshot {Snapshot}")]
    public static partial void Registered(ILogger logger, string sourceId, string table, string streamArn, int shards, bool snapshot);

    [LoggerMessage(1603, LogLevel.Information, "Source {SourceId}: {Shards} shards known, {Open} being read; new shard {ShardId} (parent {Parent})")]
    public static partial void ShardFound(ILogger logger, string sourceId, int shards, int open, string shardId, string? parent);

    [LoggerMessage(1604, LogLevel.Information, "Source {SourceId}: shard {ShardId} read to its end and durable; retired")]
    public static partial void ShardRetired(ILogger logger, string sourceId, string shardId);

    [LoggerMessage(1605, LogLevel.Information, "Source {SourceId}: replaying {Reads} logged shard reads from position {Position} after a restart")]
    public static partial void Replaying(ILogger logger, string sourceId, int reads, ulong position);

    [LoggerMessage(1606, LogLevel.Information, "Source {SourceId}: scan segment {Segment}/{Segments} wrote {Rows} items")]
    public static partial void SegmentScanned(ILogger logger, string sourceId, int segment, int segments, long rows);
}

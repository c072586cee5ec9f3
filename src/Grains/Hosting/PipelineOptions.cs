using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Hosting;

/// <summary>Capture and materialization tuning. Section <c>Saiki:Pipeline</c>.</summary>
public sealed class PipelineOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Pipeline";
    /// <summary>Default maximum age of buffered changes before a partition writes a file.</summary>
    public static readonly TimeSpan DEFAULT_FLUSH_INTERVAL = TimeSpan.FromSeconds(1);
    /// <summary>Default number of buffered changes that makes a partition write a file at once.</summary>
    public const int DEFAULT_MAX_BUFFERED_CHANGES = 50_000;
    /// <summary>Default estimated size of a lake file at which a partition writes it (128 MiB).</summary>
    public const long DEFAULT_TARGET_FILE_BYTES = 128L << 20;
    /// <summary>Smallest <see cref="TargetFileBytes"/> accepted.</summary>
    public const long MIN_TARGET_FILE_BYTES = 1L << 10;
    /// <summary>Default limit of changes a source keeps in flight before it stops reading.</summary>
    public const int DEFAULT_MAX_PENDING_CHANGES = 200_000;
    /// <summary>Default time without checkpoint progress after which a source replays from its checkpoint.</summary>
    public static readonly TimeSpan DEFAULT_RESYNC_AFTER = TimeSpan.FromSeconds(30);
    /// <summary>Default period of the supervision reminder.</summary>
    public static readonly TimeSpan DEFAULT_SUPERVISION_INTERVAL = TimeSpan.FromSeconds(10);

    /// <summary>Default pages (8 KiB each) per initial-snapshot chunk.</summary>
    public const int DEFAULT_SNAPSHOT_CHUNK_PAGES = 2048;
    /// <summary>Default number of chunks read at once.</summary>
    public const int DEFAULT_SNAPSHOT_PARALLELISM = 4;

    /// <summary>Default interval between heartbeats written to each source database.</summary>
    public static readonly TimeSpan DEFAULT_HEARTBEAT_INTERVAL = TimeSpan.FromSeconds(10);
    /// <summary>Default retained WAL above which a source raises an alert (16 GiB).</summary>
    public const long DEFAULT_MAX_RETAINED_WAL_BYTES = 16L << 30;

    /// <summary>Interval between heartbeats: a logical message written to the source database so the slot's
    /// confirmed position advances even when the captured tables are quiet, and lag and retained WAL are read.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = DEFAULT_HEARTBEAT_INTERVAL;
    /// <summary>Retained WAL (bytes the slot holds on the source server) above which the source raises an alert.</summary>
    public long MaxRetainedWalBytes { get; set; } = DEFAULT_MAX_RETAINED_WAL_BYTES;

    /// <summary>Pages (8 KiB each) per initial-snapshot chunk: the unit of parallelism and of resumption.</summary>
    public int SnapshotChunkPages { get; set; } = DEFAULT_SNAPSHOT_CHUNK_PAGES;
    /// <summary>Chunks read at once per source, each on its own connection, spread over the silos.</summary>
    public int SnapshotParallelism { get; set; } = DEFAULT_SNAPSHOT_PARALLELISM;
    /// <summary>Maximum age of buffered changes before a partition writes a file (latency bound).</summary>
    public TimeSpan FlushInterval { get; set; } = DEFAULT_FLUSH_INTERVAL;
    /// <summary>Buffered changes that make a partition write a file at once (count bound).</summary>
    public int MaxBufferedChanges { get; set; } = DEFAULT_MAX_BUFFERED_CHANGES;
    /// <summary>Stored size a partition aims its files at: it writes a file when the estimated size of its buffer
    /// (encoded row sizes as rows are buffered, scaled by the compression its recent files achieved) reaches this.</summary>
    public long TargetFileBytes { get; set; } = DEFAULT_TARGET_FILE_BYTES;
    /// <summary>Changes a source keeps emitted-but-not-durable before it pauses reading (back-pressure); bounds memory
    /// however large a transaction is.</summary>
    public int MaxPendingChanges { get; set; } = DEFAULT_MAX_PENDING_CHANGES;
    /// <summary>Time without checkpoint progress, while changes are pending, after which a source replays from its checkpoint.</summary>
    public TimeSpan ResyncAfter { get; set; } = DEFAULT_RESYNC_AFTER;
    /// <summary>Period of the registry's supervision reminder, which makes sure every registered source is capturing (reactivation after a crash).</summary>
    public TimeSpan SupervisionInterval { get; set; } = DEFAULT_SUPERVISION_INTERVAL;
    /// <summary>Wait between reads of a stream whose shards returned nothing (DynamoDB Streams allows 5 reads per shard per second).</summary>
    public TimeSpan StreamPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
    /// <summary>
    /// DynamoDB sources read their stream from the shards' start and skip records created before the snapshot
    /// began, less this overlap; records inside it are applied again after the snapshot (harmless: every later
    /// change follows). It must exceed the rounding of the records' creation times (a second on AWS, a minute on
    /// DynamoDB Local) plus the clock difference between the silos and DynamoDB.
    /// </summary>
    public TimeSpan DynamoSnapshotOverlap { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// DynamoDB tables a source may read with the silo's own AWS identity (registered without accessKeyId): names, or
    /// prefixes ending in <c>*</c>. Empty (the default): every DynamoDB source must bring its own keys, so no team can
    /// make the silo read a table its own identity may read and the team's may not.
    /// </summary>
    public List<string> SiloCredentialTables { get; set; } = [];

    /// <summary>True when a source may read <paramref name="table"/> with the silo's own identity.</summary>
    public bool AllowsSiloCredentials(string table) => SiloCredentialTables.Any(p =>
        p.EndsWith('*') ? table.StartsWith(p[..^1], StringComparison.Ordinal) : string.Equals(p, table, StringComparison.Ordinal));

    /// <summary>Let process webhooks reach link-local and cloud metadata addresses (refused by default, see <see cref="Processes.WebhookGuard"/>).</summary>
    public bool AllowLinkLocalWebhooks { get; set; }
}

internal sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions o)
    {
        var errors = new List<string>();
        if (o.FlushInterval < TimeSpan.FromMilliseconds(50) || o.FlushInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{PipelineOptions.Section}:FlushInterval is {o.FlushInterval}; it must be between 00:00:00.05 and 01:00:00");
        }
        if (o.MaxBufferedChanges < 1)
        {
            errors.Add($"{PipelineOptions.Section}:MaxBufferedChanges is {o.MaxBufferedChanges}; it must be at least 1");
        }
        if (o.TargetFileBytes < PipelineOptions.MIN_TARGET_FILE_BYTES)
        {
            errors.Add($"{PipelineOptions.Section}:TargetFileBytes is {o.TargetFileBytes}; it must be at least {PipelineOptions.MIN_TARGET_FILE_BYTES}");
        }
        if (o.MaxPendingChanges < 1)
        {
            errors.Add($"{PipelineOptions.Section}:MaxPendingChanges is {o.MaxPendingChanges}; it must be at least 1");
        }
        if (o.ResyncAfter <= o.FlushInterval)
        {
            errors.Add($"{PipelineOptions.Section}:ResyncAfter ({o.ResyncAfter}) must be longer than FlushInterval ({o.FlushInterval})");
        }
        if (o.HeartbeatInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"{PipelineOptions.Section}:HeartbeatInterval is {o.HeartbeatInterval}; it must be at least 00:00:00.1");
        }
        if (o.MaxRetainedWalBytes < 1)
        {
            errors.Add($"{PipelineOptions.Section}:MaxRetainedWalBytes is {o.MaxRetainedWalBytes}; it must be positive");
        }
        if (o.SnapshotChunkPages < 1)
        {
            errors.Add($"{PipelineOptions.Section}:SnapshotChunkPages is {o.SnapshotChunkPages}; it must be at least 1");
        }
        if (o.SnapshotParallelism is < 1 or > 64)
        {
            errors.Add($"{PipelineOptions.Section}:SnapshotParallelism is {o.SnapshotParallelism}; it must be between 1 and 64");
        }
        if (o.SupervisionInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"{PipelineOptions.Section}:SupervisionInterval is {o.SupervisionInterval}; it must be at least 00:00:00.1");
        }
        if (o.StreamPollInterval < TimeSpan.FromMilliseconds(10) || o.StreamPollInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{PipelineOptions.Section}:StreamPollInterval is {o.StreamPollInterval}; it must be between 00:00:00.01 and 00:01:00");
        }
        if (o.DynamoSnapshotOverlap < TimeSpan.FromSeconds(2))
        {
            errors.Add($"{PipelineOptions.Section}:DynamoSnapshotOverlap is {o.DynamoSnapshotOverlap}; it must be at least 00:00:02 (stream times are rounded down to the second)");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

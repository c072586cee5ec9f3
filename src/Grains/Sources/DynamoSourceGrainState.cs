using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Sources;

/// <summary>Durable state of a DynamoDB source grain: registration, shard checkpoints and the log of reads not yet durable.</summary>
[GenerateSerializer, Alias("saiki.dynamo-source-state")]
public sealed class DynamoSourceGrainState : ISourceLifecycle
{
    /// <summary>The accepted registration; null when none.</summary>
    [Id(0)] public DynamoSourceSpec? Spec { get; set; }
    /// <summary>Life-cycle state.</summary>
    [Id(1)] public SourceState State { get; set; }
    /// <inheritdoc />
    public bool Registered => Spec is not null && State != SourceState.Removed;
    /// <summary>Why the source failed.</summary>
    [Id(2)] public string? Error { get; set; }
    /// <summary>When the registration was accepted.</summary>
    [Id(3)] public DateTimeOffset RegisteredAt { get; set; }
    /// <summary>Capture runs started; batches carry it.</summary>
    [Id(4)] public long Epoch { get; set; }
    /// <summary>Records read since registration (replays included).</summary>
    [Id(5)] public long ChangesCaptured { get; set; }
    /// <summary>Per partition: changes and files written, as last reported.</summary>
    [Id(6)] public Dictionary<string, PartitionCounters> Partitions { get; set; } = new();
    /// <summary>Every change created at or before this time is durable.</summary>
    [Id(7)] public DateTimeOffset? CompleteUpTo { get; set; }
    /// <summary>The stream read.</summary>
    [Id(8)] public string StreamArn { get; set; } = "";
    /// <summary>Columns known so far (keys first).</summary>
    [Id(9)] public List<ColumnSchema> Columns { get; set; } = new();
    /// <summary>Number of key columns at the start of <see cref="Columns"/>.</summary>
    [Id(10)] public int KeyCount { get; set; }
    /// <summary>Stream records created before this time (less the overlap) are covered by the snapshot and skipped.</summary>
    [Id(11)] public DateTimeOffset From { get; set; }
    /// <summary>The position the next emitted change gets (positions count changes; snapshot rows sit before them).</summary>
    [Id(12)] public ulong NextPosition { get; set; } = 1;
    /// <summary>Every shard seen, by id.</summary>
    [Id(13)] public Dictionary<string, ShardCheckpoint> Shards { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Reads whose changes are not all durable yet, in the order they were emitted: replayed after a restart
    /// so every change gets its position again.</summary>
    [Id(14)] public List<LoggedRead> Log { get; set; } = new();
    /// <summary>The current snapshot (initial or re-snapshot), when one was taken.</summary>
    [Id(15)] public DynamoSnapshot? Snapshot { get; set; }
    /// <summary>Highest position confirmed durable.</summary>
    [Id(16)] public ulong Confirmed { get; set; }
    /// <summary>Lake file numbers used by snapshots so far (a re-snapshot continues after them).</summary>
    [Id(17)] public int ChunksUsed { get; set; }
    /// <summary>Position of the truncate a re-snapshot sends to every partition, until it is durable.</summary>
    [Id(18)] public ulong? TruncateAt { get; set; }
}

/// <summary>How far one shard is read.</summary>
[GenerateSerializer, Alias("saiki.dynamo-shard-checkpoint")]
public sealed class ShardCheckpoint
{
    /// <summary>Parent shard, read to its end before this one starts.</summary>
    [Id(0)] public string? Parent { get; set; }
    /// <summary>Sequence number of the last record whose changes are durable; null before the first.</summary>
    [Id(1)] public string? Checkpoint { get; set; }
    /// <summary>Every record of the (closed) shard has been read and logged.</summary>
    [Id(2)] public bool Exhausted { get; set; }
    /// <summary>Exhausted and every change durable: the shard is retired.</summary>
    [Id(3)] public bool Finished { get; set; }
}

/// <summary>
/// One read of a shard: the records after <see cref="After"/> up to <see cref="Through"/>; the changes they gave
/// have positions from <see cref="FirstPosition"/> on, and the read is durable once position <see cref="UpTo"/> is.
/// </summary>
[GenerateSerializer, Alias("saiki.dynamo-logged-read")]
public sealed record LoggedRead(
    [property: Id(0)] string ShardId,
    [property: Id(1)] string? After,
    [property: Id(2)] string Through,
    [property: Id(3)] ulong FirstPosition,
    [property: Id(4)] ulong UpTo);

/// <summary>A Scan snapshot: its segments and the position of its rows.</summary>
[GenerateSerializer, Alias("saiki.dynamo-snapshot")]
public sealed class DynamoSnapshot
{
    /// <summary>Snapshot rows are at <c>Position(Base, segment)</c>; stream changes follow from <c>Base + 1</c>.</summary>
    [Id(0)] public ulong Base { get; set; }
    /// <summary>When the snapshot started.</summary>
    [Id(1)] public DateTimeOffset StartedAt { get; set; }
    /// <summary>Segments: done flag and rows.</summary>
    [Id(2)] public List<ScanSegment> Segments { get; set; } = new();
    /// <summary>Lake file number of segment 0.</summary>
    [Id(3)] public int FirstChunk { get; set; }
    /// <summary>True when every segment is durable.</summary>
    public bool Completed => Segments.TrueForAll(s => s.Done);
}

/// <summary>One Scan segment of a snapshot.</summary>
[GenerateSerializer, Alias("saiki.dynamo-scan-segment-state")]
public sealed class ScanSegment
{
    /// <summary>Segment number.</summary>
    [Id(0)] public int Segment { get; set; }
    /// <summary>Written to the lake.</summary>
    [Id(1)] public bool Done { get; set; }
    /// <summary>Items written.</summary>
    [Id(2)] public long Rows { get; set; }
}

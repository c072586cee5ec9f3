using Orleans;
using Saiki.Orleans.Capture.Snapshot;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Sources;

/// <summary>Durable state of a source grain.</summary>
[GenerateSerializer, Alias("saiki.source-state")]
public sealed class SourceGrainState : ISourceLifecycle
{
    /// <summary>The accepted (normalized) registration; null when none.</summary>
    [Id(0)] public PostgresSourceSpec? Spec { get; set; }
    /// <summary>Life-cycle state.</summary>
    [Id(1)] public SourceState State { get; set; }
    /// <inheritdoc />
    public bool Registered => Spec is not null && State != SourceState.Removed;
    /// <summary>Why the source failed.</summary>
    [Id(2)] public string? Error { get; set; }
    /// <summary>Last LSN confirmed to PostgreSQL (informational; the slot is authoritative).</summary>
    [Id(3)] public ulong ConfirmedLsn { get; set; }
    /// <summary>Number of capture runs started; batches carry it so partitions can tell runs apart.</summary>
    [Id(4)] public long Epoch { get; set; }
    /// <summary>When the registration was accepted.</summary>
    [Id(5)] public DateTimeOffset RegisteredAt { get; set; }
    /// <summary>Per partition: changes and files written, as last reported.</summary>
    [Id(6)] public Dictionary<string, PartitionCounters> Partitions { get; set; } = new();
    /// <summary>Changes read since registration.</summary>
    [Id(7)] public long ChangesCaptured { get; set; }
    /// <summary>The initial snapshot, when the source takes one.</summary>
    [Id(8)] public SnapshotPlan? Snapshot { get; set; }
    /// <summary>Chunks of tables added while the source runs, snapshotted between watermarks in the stream.</summary>
    [Id(9)] public List<SnapshotChunk> Incremental { get; set; } = new();
    /// <summary>Every change committed at or before this time is durable (see <see cref="SourceInfo.CompleteUpTo"/>).</summary>
    [Id(10)] public DateTimeOffset? CompleteUpTo { get; set; }
}

/// <summary>A partition's cumulative counters as its acknowledgements report them.</summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-counters")]
public sealed record PartitionCounters([property: Id(0)] long Rows, [property: Id(1)] long Files);

using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Materialization;

/// <summary>Durable state of a partition materializer, written after each file and its manifest entry.</summary>
[GenerateSerializer, Alias("saiki.partition-state")]
public sealed class PartitionGrainState
{
    /// <summary>Every change at or below this position is in a lake file listed in the manifest.</summary>
    [Id(0)] public Position Durable { get; set; }
    /// <summary>Epoch of the last batch included in a file.</summary>
    [Id(1)] public long Epoch { get; set; }
    /// <summary>Sequence the next batch of <see cref="Epoch"/> must carry.</summary>
    [Id(2)] public long NextSequence { get; set; }
    /// <summary>Changes written.</summary>
    [Id(3)] public long RowsWritten { get; set; }
    /// <summary>Files written.</summary>
    [Id(4)] public long FilesWritten { get; set; }
    /// <summary>When the last file was written.</summary>
    [Id(5)] public DateTimeOffset? LastFlush { get; set; }
    /// <summary>Commit time of the newest durable change: where to look for unlisted files after a crash.</summary>
    [Id(6)] public DateTimeOffset? LastCommitTime { get; set; }
}

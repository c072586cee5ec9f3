using Orleans;
using Orleans.Concurrency;

namespace Saiki.Orleans.Processes;

/// <summary>The processes registered in the cluster (key 0).</summary>
public interface IProcessRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Validates and registers a process; throws <see cref="ProcessValidationException"/> naming each problem.</summary>
    Task<ProcessInfo> RegisterAsync(ProcessDefinition definition);

    /// <summary>All definitions (what silos route cleansed events by). Interleaves: partitions activated while a
    /// registration is under way ask for it.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<ProcessDefinition>> GetDefinitionsAsync();

    /// <summary>All processes with statistics.</summary>
    Task<IReadOnlyList<ProcessInfo>> ListAsync();

    /// <summary>Removes a process and its state; false when unknown.</summary>
    Task<bool> RemoveAsync(string name);
}

/// <summary>One process (key = name): its definition, and queries fanned out over its partitions.</summary>
public interface IProcessGrain : IGrainWithStringKey
{
    /// <summary>Stores the definition.</summary>
    Task DefineAsync(ProcessDefinition definition);

    /// <summary>Definition and merged statistics; null when not registered.</summary>
    Task<ProcessInfo?> GetAsync();

    /// <summary>Breaches, newest first.</summary>
    Task<BreachPage> GetBreachesAsync(int offset, int limit);

    /// <summary>One instance by business key; null when unknown.</summary>
    Task<InstanceView?> GetInstanceAsync(string key);

    /// <summary>Per-minute counts for the last <paramref name="minutes"/> minutes of event time.</summary>
    Task<ProcessSeries> GetSeriesAsync(int minutes);

    /// <summary>Forgets the definition and clears every partition.</summary>
    Task RemoveAsync();
}

/// <summary>
/// One partition of a process (key <c>process|partition</c>): the open instances whose business key hashes to
/// it, fed by the stream of cleansed events routed to it.
/// </summary>
public interface IProcessPartitionGrain : IGrainWithStringKey
{
    /// <summary>Raw statistics to merge.</summary>
    Task<PartitionProcessStats> GetStatsAsync();

    /// <summary>The newest <paramref name="count"/> breaches and the total.</summary>
    Task<BreachPage> GetBreachesAsync(int count);

    /// <summary>One instance; null when unknown.</summary>
    Task<InstanceView?> GetInstanceAsync(string key);

    /// <summary>Drops all state (the process was removed).</summary>
    Task ClearAsync();
}

/// <summary>A partition's statistics in mergeable form: counts, histogram buckets and per-minute counters.</summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-process-stats")]
public sealed record PartitionProcessStats(
    [property: Id(0)] long Started,
    [property: Id(1)] long Completed,
    [property: Id(2)] long Open,
    [property: Id(3)] long Breached,
    [property: Id(4)] long LateEvents,
    [property: Id(5)] long UnmatchedEvents,
    [property: Id(6)] long[] Reached,
    [property: Id(7)] long[] StepBreaches,
    [property: Id(8)] long[][] CycleHistograms,
    [property: Id(9)] IReadOnlyList<SeriesPoint> Series,
    [property: Id(10)] DateTimeOffset? Watermark);

/// <summary>A cleansed change that matched a step, routed to the process partition of its business key.</summary>
[GenerateSerializer, Immutable, Alias("saiki.process-event")]
public sealed record ProcessEvent(
    [property: Id(0)] int Step,
    [property: Id(1)] string Key,
    [property: Id(2)] long TimeTicks);

/// <summary>Events for one process partition from one lake flush, in commit order.</summary>
[GenerateSerializer, Immutable, Alias("saiki.process-event-batch")]
public sealed record ProcessEventBatch([property: Id(0)] IReadOnlyList<ProcessEvent> Events);

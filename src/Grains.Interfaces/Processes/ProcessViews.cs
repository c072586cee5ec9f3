using Orleans;

namespace Saiki.Orleans.Processes;

/// <summary>A registered process with its statistics.</summary>
[GenerateSerializer, Immutable, Alias("saiki.process-info")]
public sealed record ProcessInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] int Partitions,
    [property: Id(2)] IReadOnlyList<ProcessStep> Steps,
    [property: Id(3)] string? Webhook,
    [property: Id(4)] ProcessStats Stats);

/// <summary>Counts over all instances. <see cref="Breached"/> counts instances with at least one breach.</summary>
[GenerateSerializer, Immutable, Alias("saiki.process-stats")]
public sealed record ProcessStats(
    [property: Id(0)] long Started,
    [property: Id(1)] long Completed,
    [property: Id(2)] long InFlight,
    [property: Id(3)] long Breached,
    [property: Id(4)] long LateEvents,
    [property: Id(5)] DateTimeOffset? Watermark,
    [property: Id(6)] IReadOnlyList<StepStats> Steps,
    [property: Id(7)] long UnmatchedEvents);

/// <summary>Per step: instances that reached it, breaches of its deadline, and cycle time from its deadline's
/// reference step (from the start for steps without a deadline).</summary>
[GenerateSerializer, Immutable, Alias("saiki.step-stats")]
public sealed record StepStats(
    [property: Id(0)] string Step,
    [property: Id(1)] long Reached,
    [property: Id(2)] long Breached,
    [property: Id(3)] CycleTime? CycleTime);

/// <summary>Cycle-time percentiles in milliseconds (from a log histogram, within 1 %).</summary>
[GenerateSerializer, Immutable, Alias("saiki.cycle-time")]
public sealed record CycleTime(
    [property: Id(0)] string From,
    [property: Id(1)] long Count,
    [property: Id(2)] double P50Ms,
    [property: Id(3)] double P95Ms,
    [property: Id(4)] double P99Ms);

/// <summary>A missed deadline: <see cref="Step"/> was not reached by <see cref="Due"/> (= <see cref="After"/>'s
/// time + the deadline). <see cref="DetectedAt"/> is the source watermark that passed it.</summary>
[GenerateSerializer, Immutable, Alias("saiki.breach")]
public sealed record Breach(
    [property: Id(0)] string Process,
    [property: Id(1)] string Key,
    [property: Id(2)] string Step,
    [property: Id(3)] string After,
    [property: Id(4)] DateTimeOffset AfterTime,
    [property: Id(5)] DateTimeOffset Due,
    [property: Id(6)] DateTimeOffset DetectedAt);

/// <summary>A page of breaches, newest first.</summary>
[GenerateSerializer, Immutable, Alias("saiki.breach-page")]
public sealed record BreachPage([property: Id(0)] long Total, [property: Id(1)] IReadOnlyList<Breach> Items);

/// <summary>One instance: its steps reached (event time) and breaches.</summary>
[GenerateSerializer, Immutable, Alias("saiki.process-instance")]
public sealed record InstanceView(
    [property: Id(0)] string Key,
    [property: Id(1)] InstanceStatus Status,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] IReadOnlyList<StepReached> Steps,
    [property: Id(4)] IReadOnlyList<Breach> Breaches);

/// <summary>A step an instance reached, at event (commit) time.</summary>
[GenerateSerializer, Immutable, Alias("saiki.step-reached")]
public sealed record StepReached([property: Id(0)] string Step, [property: Id(1)] DateTimeOffset At);

/// <summary>Where an instance stands.</summary>
public enum InstanceStatus
{
    /// <summary>Started, not completed, no breach.</summary>
    Open,
    /// <summary>Reached a terminal step.</summary>
    Completed,
    /// <summary>Missed a deadline (and is not completed).</summary>
    Breached,
}

/// <summary>Counts per minute (by event time).</summary>
[GenerateSerializer, Immutable, Alias("saiki.series-point")]
public sealed record SeriesPoint(
    [property: Id(0)] DateTimeOffset Minute,
    [property: Id(1)] long Started,
    [property: Id(2)] long Completed,
    [property: Id(3)] long Breached);

/// <summary>Per-minute series.</summary>
[GenerateSerializer, Immutable, Alias("saiki.series")]
public sealed record ProcessSeries([property: Id(0)] IReadOnlyList<SeriesPoint> Minutes);

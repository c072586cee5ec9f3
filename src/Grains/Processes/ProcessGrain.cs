using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Processes;

/// <summary>One process: its definition, and its queries fanned out over the partitions and merged.</summary>
public sealed class ProcessGrain([PersistentState("process", SaikiNames.Storage)] IPersistentState<ProcessGrainState> state) : Grain, IProcessGrain
{
    private IEnumerable<IProcessPartitionGrain> Partitions =>
        Enumerable.Range(0, state.State.Definition!.Partitions)
            .Select(p => GrainFactory.GetGrain<IProcessPartitionGrain>(CompiledProcess.PartitionKey(state.State.Definition.Name, p)));

    /// <inheritdoc />
    public async Task DefineAsync(ProcessDefinition definition)
    {
        state.State.Definition = definition;
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task<ProcessInfo?> GetAsync()
    {
        if (state.State.Definition is not { } d)
        {
            return null;
        }
        var parts = await Task.WhenAll(Partitions.Select(p => p.GetStatsAsync()));
        var steps = d.Steps.Select((step, i) =>
        {
            var histogram = parts.Where(p => p.CycleHistograms.Length > i).Aggregate(Array.Empty<long>(), (h, p) => LogHistogram.Merge(h, p.CycleHistograms[i]));
            var count = histogram.Sum();
            var from = step.Deadline?.After ?? d.Steps[0].Name;
            return new StepStats(step.Name, parts.Sum(p => p.Reached.ElementAtOrDefault(i)), parts.Sum(p => p.StepBreaches.ElementAtOrDefault(i)),
                i == 0 || count == 0 ? null : new CycleTime(from, count,
                    LogHistogram.Percentile(histogram, 0.50), LogHistogram.Percentile(histogram, 0.95), LogHistogram.Percentile(histogram, 0.99)));
        }).ToArray();
        var watermarks = parts.Select(p => p.Watermark).ToArray();
        var stats = new ProcessStats(parts.Sum(p => p.Started), parts.Sum(p => p.Completed), parts.Sum(p => p.Open), parts.Sum(p => p.Breached),
            parts.Sum(p => p.LateEvents), watermarks.All(w => w is not null) ? watermarks.Min() : null, steps, parts.Sum(p => p.UnmatchedEvents));
        return new ProcessInfo(d.Name, d.Partitions, d.Steps, d.Webhook, stats);
    }

    /// <summary>Deepest page start of a breach listing: each partition sends offset + limit breaches, so both are bounded.</summary>
    public const int MaxBreachOffset = 100_000;

    /// <inheritdoc />
    public async Task<BreachPage> GetBreachesAsync(int offset, int limit)
    {
        if (state.State.Definition is null)
        {
            return new BreachPage(0, []);
        }
        (offset, limit) = (Math.Clamp(offset, 0, MaxBreachOffset), Math.Clamp(limit, 0, 1000));
        var pages = await Task.WhenAll(Partitions.Select(p => p.GetBreachesAsync(offset + limit)));
        var items = pages.SelectMany(p => p.Items).OrderByDescending(b => b.DetectedAt).ThenByDescending(b => b.Due).ThenBy(b => b.Key, StringComparer.Ordinal)
            .Skip(offset).Take(limit).ToArray();
        return new BreachPage(pages.Sum(p => p.Total), items);
    }

    /// <inheritdoc />
    public Task<InstanceView?> GetInstanceAsync(string key) =>
        state.State.Definition is not { } d
            ? Task.FromResult<InstanceView?>(null)
            : GrainFactory.GetGrain<IProcessPartitionGrain>(CompiledProcess.PartitionKey(d.Name, CompiledProcess.PartitionOf(key, d.Partitions))).GetInstanceAsync(key);

    /// <inheritdoc />
    public async Task<ProcessSeries> GetSeriesAsync(int minutes)
    {
        if (state.State.Definition is null)
        {
            return new ProcessSeries([]);
        }
        // Every minute of the window, zero where nothing happened, so charts show the whole window.
        var now = DateTimeOffset.UtcNow;
        var last = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        var first = last.AddMinutes(1 - minutes);
        var parts = await Task.WhenAll(Partitions.Select(p => p.GetStatsAsync()));
        var counted = parts.SelectMany(p => p.Series).Where(p => p.Minute >= first).GroupBy(p => p.Minute)
            .ToDictionary(g => g.Key, g => new SeriesPoint(g.Key, g.Sum(p => p.Started), g.Sum(p => p.Completed), g.Sum(p => p.Breached)));
        var window = Enumerable.Range(0, minutes).Select(i => first.AddMinutes(i)).Select(m => counted.GetValueOrDefault(m) ?? new SeriesPoint(m, 0, 0, 0));
        // Event times ahead of this silo's clock still count.
        var points = window.Concat(counted.Values.Where(p => p.Minute > last)).ToArray();
        return new ProcessSeries(points);
    }

    /// <inheritdoc />
    public async Task RemoveAsync()
    {
        if (state.State.Definition is not null)
        {
            await Task.WhenAll(Partitions.Select(p => p.ClearAsync()));
        }
        await state.ClearStateAsync();
    }
}

/// <summary>A process grain's stored state.</summary>
[GenerateSerializer, Alias("saiki.process-grain-state")]
public sealed class ProcessGrainState
{
    [Id(0)] public ProcessDefinition? Definition { get; set; }
}

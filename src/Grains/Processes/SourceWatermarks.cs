using System.Collections.Concurrent;
using Orleans;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Processes;

/// <summary>
/// Per-source event-time watermarks for process monitoring: a source's "complete up to" time (every change committed
/// up to it is durable and routed). Heartbeats advance it while the source is quiet, so deadlines do not stall.
/// Cached for half a second per silo.
/// </summary>
public sealed class SourceWatermarks(IGrainFactory grains)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Read, DateTimeOffset? Watermark)> _cache = new(StringComparer.Ordinal);

    /// <summary>The lowest watermark of <paramref name="sources"/>; null while any has none.</summary>
    public async Task<DateTimeOffset?> MinimumAsync(IEnumerable<string> sources)
    {
        DateTimeOffset? minimum = null;
        foreach (var source in sources)
        {
            if (await OfAsync(source) is not { } watermark)
            {
                return null;
            }
            minimum = minimum is null || watermark < minimum ? watermark : minimum;
        }
        return minimum;
    }

    private async Task<DateTimeOffset?> OfAsync(string source)
    {
        var now = DateTimeOffset.UtcNow;
        if (_cache.TryGetValue(source, out var cached) && now - cached.Read < MaxAge)
        {
            return cached.Watermark;
        }
        var watermark = (await grains.GetGrain<ISourceRegistryGrain>(0).GetAsync(source))?.CompleteUpTo;
        _cache[source] = (now, watermark);
        return watermark;
    }
}

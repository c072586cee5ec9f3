namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Tukang's cleansing of a stream of business events: an event whose eid was seen (within the window) is a
/// duplicate; an event at or before the watermark is late (its place in the output has passed); the rest wait in
/// event-time order until the watermark passes them. As in Flink, each input partition has its own: the newest
/// occurred_at it delivered minus the allowed lateness; the watermark is the lowest of them, leaving out partitions
/// that delivered nothing for longer than the allowed lateness (idle), so one partition read ahead of another does
/// not make the other's events late. When every partition is idle, everything waiting is released.
/// </summary>
public sealed class EventCleanser(TimeSpan allowedLateness, int dedupWindow)
{
    private readonly EidWindow _eids = new(dedupWindow);
    private readonly HashSet<string> _waitingEids = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Waiting, (long Time, long Arrival)> _waiting = new();
    private readonly Dictionary<int, (long Newest, DateTimeOffset Arrived)> _partitions = [];
    private long _arrivals;
    private long _newestTicks;

    /// <summary>Everything up to this time has been released (ticks, UTC).</summary>
    public long WatermarkTicks { get; private set; }

    /// <summary>Events waiting for the watermark.</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>An input partition was assigned: until it delivers (or stays idle for the allowed lateness) it holds the watermark back.</summary>
    public void Assigned(int partition, DateTimeOffset now)
    {
        if (!_partitions.ContainsKey(partition))
        {
            _partitions[partition] = (0, now);
        }
    }

    /// <summary>Takes one event of input partition <paramref name="partition"/> arriving at <paramref name="now"/>;
    /// says whether it waits, was a duplicate, or is late.</summary>
    public CleanseOutcome Add(BusinessEvent e, int partition, DateTimeOffset now, object? tag = null)
    {
        var newest = Math.Max(_partitions.GetValueOrDefault(partition).Newest, e.OccurredAt.UtcTicks);
        _partitions[partition] = (newest, now);
        if (!_eids.Add(e.Eid))
        {
            return CleanseOutcome.Duplicate;
        }
        var ticks = e.OccurredAt.UtcTicks;
        if (ticks <= WatermarkTicks)
        {
            return CleanseOutcome.Late;
        }
        _waitingEids.Add(e.Eid);
        _waiting.Enqueue(new Waiting(e, tag), (ticks, _arrivals++));
        _newestTicks = Math.Max(_newestTicks, ticks);
        return CleanseOutcome.Waiting;
    }

    /// <summary>The reader paused (the lake refused writes) and reads again at <paramref name="now"/>: the pause does
    /// not count as its partitions being idle, which would release what waits and make what follows late.</summary>
    public void Resumed(DateTimeOffset now)
    {
        foreach (var partition in _partitions.Keys.ToArray())
        {
            _partitions[partition] = (_partitions[partition].Newest, now);
        }
    }

    /// <summary>Releases, in event-time order, what the watermark has passed at <paramref name="now"/>.</summary>
    public List<(BusinessEvent Event, object? Tag)> Release(DateTimeOffset now)
    {
        var active = _partitions.Values.Where(p => now - p.Arrived < allowedLateness).Select(p => p.Newest).ToArray();
        var watermark = active.Length == 0 ? Math.Max(WatermarkTicks, _newestTicks) : Math.Max(WatermarkTicks, Math.Max(0, active.Min() - allowedLateness.Ticks));
        var released = new List<(BusinessEvent, object?)>();
        while (_waiting.TryPeek(out var next, out var at) && at.Time <= watermark)
        {
            _waiting.Dequeue();
            _waitingEids.Remove(next.Event.Eid);
            released.Add((next.Event, next.Tag));
        }
        WatermarkTicks = watermark;
        return released;
    }

    /// <summary>Tags of the events still waiting (e.g. their Kafka offsets).</summary>
    public IEnumerable<object?> WaitingTags => _waiting.UnorderedItems.Select(x => x.Element.Tag);

    /// <summary>Ids to keep across a restart: those seen, except the ones still waiting (they will be read again).</summary>
    public List<string> SaveEids() => _eids.Save(_waitingEids);

    /// <summary>Restores the ids and the watermark saved before a restart.</summary>
    public void Load(IEnumerable<string> eids, long watermarkTicks)
    {
        _eids.Load(eids);
        WatermarkTicks = watermarkTicks;
        _newestTicks = Math.Max(_newestTicks, watermarkTicks);
    }

    private sealed record Waiting(BusinessEvent Event, object? Tag);
}

/// <summary>What cleansing did with an event.</summary>
public enum CleanseOutcome
{
    /// <summary>Waiting for the watermark, then written in order.</summary>
    Waiting,
    /// <summary>Its eid was seen: dropped.</summary>
    Duplicate,
    /// <summary>Older than the watermark: written to the late location with the reason.</summary>
    Late,
}

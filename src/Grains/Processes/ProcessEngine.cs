using Orleans;

namespace Saiki.Orleans.Processes;

/// <summary>
/// The open instances of one process partition and what happens to them, kept compactly (an instance is its key,
/// one timestamp per step and a breach mask; a deadline is one queue entry), so a partition holds hundreds of
/// thousands of open orders. Event time is the source commit time. Deadlines fire when the source watermark passes
/// them, whether or not another event arrives. Events arrive per table in commit order but tables flush
/// independently, so a payment can arrive before its order: events wait until the watermark passes their time and
/// are then applied in event-time order, interleaved with the deadlines they race, so an instance is breached
/// exactly when its step was not reached by the due time. An event older than the watermark when it arrives is
/// late: it is applied at once (a step reached after its breach still counts and can complete the instance), the
/// breach already raised stays, and it is counted in <see cref="LateEvents"/>.
/// Not thread-safe: its grain calls it on one scheduler.
/// </summary>
public sealed class ProcessEngine(CompiledProcess process, int retainClosed = ProcessEngine.DEFAULT_RETAIN_CLOSED, int retainBreaches = ProcessEngine.DEFAULT_RETAIN_BREACHES)
{
    /// <summary>Completed instances kept queryable per partition (oldest forgotten first).</summary>
    public const int DEFAULT_RETAIN_CLOSED = 10_000;
    /// <summary>Breaches kept queryable per partition (the total counts all).</summary>
    public const int DEFAULT_RETAIN_BREACHES = 10_000;

    private static readonly long TicksPerMinute = TimeSpan.TicksPerMinute;
    private const int SERIES_MINUTES = 24 * 60;

    private readonly Dictionary<string, Instance> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Instance> _closed = new(StringComparer.Ordinal);
    private readonly Queue<string> _closedOrder = new();
    private readonly PriorityQueue<(Instance Instance, int Step), long> _deadlines = new();
    private readonly PriorityQueue<ProcessEvent, (long Time, long Arrival)> _pending = new();
    private long _arrivals;
    private readonly long[] _reached = new long[process.StepCount];
    private readonly long[] _stepBreaches = new long[process.StepCount];
    private readonly long[][] _cycle = Enumerable.Range(0, process.StepCount).Select(_ => new long[LogHistogram.BUCKETS]).ToArray();
    private readonly SortedDictionary<long, long[]> _series = new();
    private readonly LinkedList<Breach> _breaches = new();

    /// <summary>The process.</summary>
    public CompiledProcess Process { get; } = process;
    /// <summary>Instances started.</summary>
    public long Started { get; private set; }
    /// <summary>Instances completed.</summary>
    public long Completed { get; private set; }
    /// <summary>Instances with at least one breach.</summary>
    public long BreachedInstances { get; private set; }
    /// <summary>Events that arrived after the watermark had passed their time.</summary>
    public long LateEvents { get; private set; }
    /// <summary>Events for no open instance (its start was before monitoring began, or it is complete).</summary>
    public long UnmatchedEvents { get; private set; }
    /// <summary>Breaches ever raised.</summary>
    public long BreachTotal { get; private set; }
    /// <summary>The watermark (ticks, UTC): every event up to it has arrived.</summary>
    public long WatermarkTicks { get; private set; }
    /// <summary>Open instances.</summary>
    public int OpenCount => _open.Count;

    /// <summary>Events waiting for the watermark.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Takes one event: applied once the watermark passes its time (at once when it already has: late).</summary>
    public void Add(ProcessEvent e)
    {
        if (e.TimeTicks <= WatermarkTicks)
        {
            LateEvents++;
            Apply(e);
            return;
        }
        _pending.Enqueue(e, (e.TimeTicks, _arrivals++));
    }

    private void Apply(ProcessEvent e)
    {
        if (!_open.TryGetValue(e.Key, out var instance))
        {
            if (e.Step != 0 || _closed.ContainsKey(e.Key))
            {
                UnmatchedEvents++;
                return;
            }
            instance = new Instance(e.Key, Process.StepCount);
            _open.Add(e.Key, instance);
            Started++;
            Count(e.TimeTicks, 0);
        }
        else if (instance.Times[e.Step] != 0)
        {
            return; // the step was reached already (the same business event seen again)
        }
        Reach(instance, e.Step, e.TimeTicks);
    }

    /// <summary>Moves the watermark forward and raises every deadline it passed; returns the new breaches.</summary>
    public IReadOnlyList<Breach> AdvanceWatermark(long watermarkTicks)
    {
        if (watermarkTicks <= WatermarkTicks)
        {
            return [];
        }
        WatermarkTicks = watermarkTicks;
        List<Breach>? raised = null;
        while (true)
        {
            var hasEvent = _pending.TryPeek(out var next, out var at) && at.Time <= watermarkTicks;
            var hasDeadline = _deadlines.TryPeek(out var entry, out var due) && due <= watermarkTicks;
            if (!hasEvent && !hasDeadline)
            {
                break;
            }
            // A step reached exactly at its due time is in time.
            if (hasEvent && (!hasDeadline || at.Time <= due))
            {
                _pending.Dequeue();
                Apply(next!);
                continue;
            }
            _deadlines.Dequeue();
            var (instance, step) = entry;
            if (instance.Closed || instance.Times[step] != 0 || (instance.BreachedMask & (1u << step)) != 0)
            {
                continue;
            }
            if (instance.BreachedMask == 0)
            {
                BreachedInstances++;
            }
            instance.BreachedMask |= 1u << step;
            _stepBreaches[step]++;
            Count(due, 2);
            var after = Process.DeadlineAfter[step];
            var breach = new Breach(Process.Name, instance.Key, Process.Definition.Steps[step].Name, Process.Definition.Steps[after].Name,
                Time(instance.Times[after]), Time(due), Time(watermarkTicks));
            Remember(breach);
            (raised ??= []).Add(breach);
        }
        return raised ?? (IReadOnlyList<Breach>)[];
    }

    /// <summary>Mergeable statistics.</summary>
    public PartitionProcessStats Stats() => new(Started, Completed, _open.Count, BreachedInstances, LateEvents, UnmatchedEvents,
        (long[])_reached.Clone(), (long[])_stepBreaches.Clone(), _cycle.Select(LogHistogram.Trim).ToArray(),
        _series.Select(kv => Point(kv.Key, kv.Value)).ToArray(), WatermarkTicks == 0 ? null : Time(WatermarkTicks));

    /// <summary>The newest breaches (newest first) and the total.</summary>
    public BreachPage Breaches(int count) => new(BreachTotal, _breaches.Take(count).ToArray());

    /// <summary>One instance by business key, open or recently completed.</summary>
    public InstanceView? Find(string key)
    {
        if (!_open.TryGetValue(key, out var instance) && !_closed.TryGetValue(key, out instance))
        {
            return null;
        }
        var steps = Enumerable.Range(0, Process.StepCount).Where(i => instance.Times[i] != 0)
            .Select(i => new StepReached(Process.Definition.Steps[i].Name, Time(instance.Times[i]))).ToArray();
        var status = instance.Closed ? InstanceStatus.Completed : instance.BreachedMask != 0 ? InstanceStatus.Breached : InstanceStatus.Open;
        return new InstanceView(key, status, Time(instance.Times[0]), steps, _breaches.Where(b => b.Key == key).ToArray());
    }

    /// <summary>The engine's state for storage.</summary>
    public ProcessPartitionState Save() => new()
    {
        Open = _open.Values.Select(i => new SavedInstance(i.Key, i.Times, i.BreachedMask)).ToList(),
        Pending = _pending.UnorderedItems.OrderBy(x => x.Priority).Select(x => x.Element).ToList(),
        Closed = _closedOrder.Select(k => _closed[k]).Select(i => new SavedInstance(i.Key, i.Times, i.BreachedMask)).ToList(),
        Started = Started, Completed = Completed, BreachedInstances = BreachedInstances, LateEvents = LateEvents,
        UnmatchedEvents = UnmatchedEvents, BreachTotal = BreachTotal, WatermarkTicks = WatermarkTicks,
        Reached = (long[])_reached.Clone(), StepBreaches = (long[])_stepBreaches.Clone(), Cycle = _cycle.Select(LogHistogram.Trim).ToArray(),
        Series = _series.Select(kv => Point(kv.Key, kv.Value)).ToList(), Breaches = _breaches.ToList(),
    };

    /// <summary>Restores a saved state (deadlines are re-armed from the instances).</summary>
    public void Load(ProcessPartitionState state)
    {
        if (state.Reached.Length != Process.StepCount)
        {
            return; // saved under another definition: start empty
        }
        Started = state.Started;
        Completed = state.Completed;
        BreachedInstances = state.BreachedInstances;
        LateEvents = state.LateEvents;
        UnmatchedEvents = state.UnmatchedEvents;
        BreachTotal = state.BreachTotal;
        WatermarkTicks = state.WatermarkTicks;
        state.Reached.CopyTo(_reached, 0);
        state.StepBreaches.CopyTo(_stepBreaches, 0);
        for (var i = 0; i < _cycle.Length && i < state.Cycle.Length; i++)
        {
            state.Cycle[i].CopyTo(_cycle[i], 0);
        }
        foreach (var p in state.Series)
        {
            _series[p.Minute.UtcTicks / TicksPerMinute] = [p.Started, p.Completed, p.Breached];
        }
        foreach (var b in state.Breaches)
        {
            _breaches.AddLast(b);
        }
        foreach (var saved in state.Closed)
        {
            var instance = new Instance(saved.Key, saved.Times, saved.BreachedMask) { Closed = true };
            _closed[saved.Key] = instance;
            _closedOrder.Enqueue(saved.Key);
        }
        foreach (var e in state.Pending)
        {
            _pending.Enqueue(e, (e.TimeTicks, _arrivals++));
        }
        foreach (var saved in state.Open)
        {
            var instance = new Instance(saved.Key, saved.Times, saved.BreachedMask);
            _open[saved.Key] = instance;
            for (var step = 0; step < Process.StepCount; step++)
            {
                if (instance.Times[step] != 0)
                {
                    Arm(instance, step);
                }
            }
        }
    }

    private void Reach(Instance instance, int step, long ticks)
    {
        instance.Times[step] = ticks;
        _reached[step]++;
        var from = Process.DeadlineAfter[step] is >= 0 and var after ? after : 0;
        if (step != 0 && instance.Times[from] != 0)
        {
            _cycle[step][LogHistogram.BucketOf((ticks - instance.Times[from]) / (double)TimeSpan.TicksPerMillisecond)]++;
        }
        if (Process.Terminal[step])
        {
            Close(instance, ticks);
            return;
        }
        Arm(instance, step);
    }

    private void Arm(Instance instance, int step)
    {
        foreach (var due in Process.Armed[step])
        {
            if (instance.Times[due] == 0)
            {
                _deadlines.Enqueue((instance, due), instance.Times[step] + Process.DeadlineTicks[due]);
            }
        }
    }

    private void Close(Instance instance, long ticks)
    {
        instance.Closed = true;
        _open.Remove(instance.Key);
        Completed++;
        Count(ticks, 1);
        _closed[instance.Key] = instance;
        _closedOrder.Enqueue(instance.Key);
        while (_closedOrder.Count > retainClosed)
        {
            _closed.Remove(_closedOrder.Dequeue());
        }
    }

    private void Remember(Breach breach)
    {
        BreachTotal++;
        _breaches.AddFirst(breach);
        if (_breaches.Count > retainBreaches)
        {
            _breaches.RemoveLast();
        }
    }

    // Per-minute counters by event time: 0 started, 1 completed, 2 breached; a day is kept.
    private void Count(long ticks, int counter)
    {
        var minute = ticks / TicksPerMinute;
        if (!_series.TryGetValue(minute, out var counts))
        {
            _series[minute] = counts = new long[3];
            while (_series.Count > SERIES_MINUTES)
            {
                _series.Remove(_series.Keys.First());
            }
        }
        counts[counter]++;
    }

    private static SeriesPoint Point(long minute, long[] c) => new(Time(minute * TicksPerMinute), c[0], c[1], c[2]);

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private sealed class Instance(string key, long[] times, uint breachedMask)
    {
        public Instance(string key, int steps) : this(key, new long[steps], 0)
        {
        }

        public string Key { get; } = key;
        public long[] Times { get; } = times;
        public uint BreachedMask { get; set; } = breachedMask;
        public bool Closed { get; set; }
    }
}

/// <summary>A process partition's stored state.</summary>
[GenerateSerializer, Alias("saiki.process-partition-state")]
public sealed class ProcessPartitionState
{
    [Id(0)] public List<SavedInstance> Open { get; set; } = [];
    [Id(1)] public List<SavedInstance> Closed { get; set; } = [];
    [Id(2)] public long Started { get; set; }
    [Id(3)] public long Completed { get; set; }
    [Id(4)] public long BreachedInstances { get; set; }
    [Id(5)] public long LateEvents { get; set; }
    [Id(6)] public long UnmatchedEvents { get; set; }
    [Id(7)] public long BreachTotal { get; set; }
    [Id(8)] public long WatermarkTicks { get; set; }
    [Id(9)] public long[] Reached { get; set; } = [];
    [Id(10)] public long[] StepBreaches { get; set; } = [];
    [Id(11)] public long[][] Cycle { get; set; } = [];
    [Id(12)] public List<SeriesPoint> Series { get; set; } = [];
    [Id(13)] public List<Breach> Breaches { get; set; } = [];
    [Id(14)] public List<ProcessEvent> Pending { get; set; } = [];
}

/// <summary>An instance as stored.</summary>
[GenerateSerializer, Immutable, Alias("saiki.saved-instance")]
public sealed record SavedInstance([property: Id(0)] string Key, [property: Id(1)] long[] Times, [property: Id(2)] uint BreachedMask);

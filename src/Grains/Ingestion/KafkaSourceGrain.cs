using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Consumes a Kafka topic of business events into the lake (Tukang's original job). A reader thread consumes
/// (consumer group, no auto-commit) into a bounded channel; this grain cleanses (<see cref="EventCleanser"/>) and,
/// every flush interval, writes what the watermark released — in event-time order — plus late and invalid events
/// with their reason, saves its state (deduplication window, watermark), and only then commits, per partition, the
/// offset below which every event is durable. A restart re-reads from the committed offsets; the saved window
/// drops what was already written. A reminder brings the grain back after its silo is gone.
/// The events go to the source's Iceberg event table (<see cref="EventTable"/>, the default) or, when
/// <c>Saiki:Lake:Format</c> or <c>TableFormats["_kafka/{source}"]</c> says otherwise, to JSON Lines files. A failed
/// write is retried with exactly the same events and write time (so the same key gets the same bytes) before
/// anything new is released; a grain that died after its events were handed over and before its state was saved
/// takes those writes (and their ids) over from the table when it starts.
/// </summary>
[Reentrant]
public sealed partial class KafkaSourceGrain(
    [PersistentState("kafka-source", SaikiNames.Storage)] IPersistentState<KafkaSourceState> state,
    ILakeStore store,
    LakeLayout layout,
    IOptions<PipelineOptions> pipeline,
    IOptions<EventBus.KafkaOptions> kafka,
    IOptions<LakeOptions> lake,
    ILogger<KafkaSourceGrain> logger) : Grain, IKafkaSourceGrain, IRemindable
{
    /// <summary>Default allowed lateness.</summary>
    public static readonly TimeSpan DEFAULT_ALLOWED_LATENESS = TimeSpan.FromSeconds(10);
    private const string KEEP_ALIVE = "consume";

    private readonly EventFiles _files = new(store, layout);
    private readonly EventValidator _validator = new(null);
    private readonly ConcurrentQueue<List<TopicPartitionOffset>> _commits = new();
    private readonly ConcurrentQueue<int> _assigned = new();
    private readonly List<(BusinessEvent Event, Offset Tag)> _unwritten = [];
    private readonly List<(DateTimeOffset Time, string Line, Offset Tag)> _lateUnwritten = [];
    private readonly Dictionary<int, long> _consumedUpTo = [];
    private CancellationTokenSource? _stop;
    private Task _loop = Task.CompletedTask;
    private EventCleanser? _cleanser;
    private string? _error;
    private bool _taken;
    /// <summary>Time of a failed write, which its retry writes again with the same events.</summary>
    private DateTimeOffset? _pinned;
    /// <summary>The events are written but the state that says so is not.</summary>
    private bool _stateOwed;
    private EventTable? _table;
    private TableSchema? _columns;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is not null)
        {
            Start();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await StopAsync();

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation starts the loop

    /// <inheritdoc />
    public async Task<KafkaSourceInfo> RegisterAsync(KafkaSourceSpec spec)
    {
        var problems = new List<string>();
        if (SaikiIds.Problem(IdKind.KafkaSource, spec.Id) is { } idProblem)
        {
            problems.Add(idProblem);
        }
        else if (spec.Id != this.GetPrimaryKeyString())
        {
            problems.Add($"Kafka source id '{spec.Id}' differs from the id '{this.GetPrimaryKeyString()}' it is registered under");
        }
        if (state.State.Spec is not null)
        {
            problems.Add($"source '{spec.Id}' is already registered; remove it first to register it again");
        }
        if (spec.GroupId is { } group && !group.StartsWith(EventBus.KafkaOptions.GROUP_PREFIX, StringComparison.Ordinal) && !kafka.Value.AllowAnyConsumerGroup)
        {
            problems.Add($"groupId '{group}' does not start with '{EventBus.KafkaOptions.GROUP_PREFIX}': a Kafka source may use only Saiki's own consumer groups, " +
                         $"so it cannot take over another application's partitions and offsets; leave groupId out ({EventBus.KafkaOptions.GROUP_PREFIX}{{id}}) " +
                         $"or have an operator set {EventBus.KafkaOptions.Section}:AllowAnyConsumerGroup=true");
        }
        if (spec.DedupWindow is < 1 or > 10_000_000)
        {
            problems.Add($"dedupWindow is {spec.DedupWindow}; it must be between 1 and 10000000");
        }
        if (spec.AllowedLateness is { } lateness && (lateness < TimeSpan.Zero || lateness > TimeSpan.FromDays(1)))
        {
            problems.Add($"allowedLateness is {lateness}; it must be between 0 and 1 day");
        }
        if (problems.Count == 0)
        {
            problems.AddRange(await Task.Run(() => CheckTopic(spec)));
        }
        if (problems.Count > 0)
        {
            throw new EventTypeException(problems);
        }
        state.State = new KafkaSourceState { Spec = spec with { GroupId = spec.GroupId ?? $"{EventBus.KafkaOptions.GROUP_PREFIX}{spec.Id}" } };
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(KEEP_ALIVE, pipeline.Value.SupervisionInterval, pipeline.Value.SupervisionInterval);
        if (Iceberg(spec))
        {
            await EventTable.Kafka(GrainFactory, store, layout, spec.Id).ListAsync();
        }
        Start();
        return Info();
    }

    /// <inheritdoc />
    public Task<KafkaSourceInfo?> GetAsync() => Task.FromResult(state.State.Spec is null ? null : Info());

    /// <inheritdoc />
    public async Task<bool> RemoveAsync()
    {
        if (state.State.Spec is null)
        {
            return false;
        }
        await StopAsync();
        if (await this.GetReminder(KEEP_ALIVE) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
        await EventTable.Kafka(GrainFactory, store, layout, state.State.Spec.Id).UnlistAsync();
        await state.ClearStateAsync();
        return true;
    }

    private static IEnumerable<string> CheckTopic(KafkaSourceSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.BootstrapServers) || string.IsNullOrWhiteSpace(spec.Topic))
        {
            return ["bootstrapServers and topic are required"];
        }
        try
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = spec.BootstrapServers, SocketTimeoutMs = 5000 }).Build();
            // All topics, not this one by name: asking for a missing topic by name makes brokers that auto-create topics create it.
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(5));
            var topic = metadata.Topics.SingleOrDefault(t => t.Topic == spec.Topic);
            return topic is null || topic.Error.IsError || topic.Partitions.Count == 0
                ? [$"topic '{spec.Topic}' does not exist on {spec.BootstrapServers}" + (topic?.Error.IsError == true ? $" ({topic.Error.Reason})" : "")]
                : [];
        }
        catch (KafkaException e)
        {
            return [$"Kafka at {spec.BootstrapServers} is not reachable: {e.Error.Reason}"];
        }
    }

    private void Start()
    {
        if (!_loop.IsCompleted)
        {
            return;
        }
        var spec = state.State.Spec!;
        _cleanser = new EventCleanser(spec.AllowedLateness ?? DEFAULT_ALLOWED_LATENESS, spec.DedupWindow);
        _cleanser.Load(state.State.Eids, state.State.WatermarkTicks);
        _unwritten.Clear();
        _lateUnwritten.Clear();
        _consumedUpTo.Clear();
        _pinned = null;
        _stateOwed = false;
        _stop = new CancellationTokenSource();
        _loop = RunAsync(spec, _stop.Token);
    }

    private async Task StopAsync()
    {
        if (_stop is null)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
        _stop = null;
    }

    private bool Iceberg(KafkaSourceSpec spec) => lake.Value.FormatOf(EventTable.KafkaSource(spec.Id)) == LakeFormat.Iceberg;

    /// <summary>
    /// Takes over the writes the event table holds beyond the saved state (handed over, then the silo died before the
    /// state was saved): their ids join the window, so the events read again are dropped as repeats.
    /// </summary>
    private async Task RecoverAsync(KafkaSourceSpec spec, CancellationToken ct)
    {
        if (!Iceberg(spec))
        {
            return;
        }
        _table = EventTable.Kafka(GrainFactory, store, layout, spec.Id);
        _columns = EventColumns.Kafka(spec.Id);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var s = state.State;
                // The table's files are the window's record: the window saved last, then the files written since.
                _cleanser!.Load(await _table.LoadEidsAsync(s.EidSnapshot, s.Flushes, spec.DedupWindow, ct), s.WatermarkTicks);
                var (sequence, eids, events) = await _table.RecoverAsync(s.Flushes, ct);
                if (sequence > s.Flushes)
                {
                    _cleanser.Load(eids, s.WatermarkTicks);
                    s.Files += sequence - s.Flushes;
                    s.Flushes = sequence;
                    s.Written += events;
                    s.EidsSinceSnapshot += events;
                    await state.WriteStateAsync(ct);
                }
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _error = e.Message;
                LakeLog.FlushFailed(logger, spec.Id, 0, e);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(attempt, 10)))), ct);
            }
        }
    }

    private async Task RunAsync(KafkaSourceSpec spec, CancellationToken ct)
    {
        await RecoverAsync(spec, ct);
        var messages = Channel.CreateBounded<ConsumeResult<Ignore, string>>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(() => Consume(spec, messages.Writer, ct), ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (_pinned is not null)
                {
                    // The lake refused the last write: read nothing more until it is written. The bounded channel
                    // fills and the reader thread waits, so memory stays bounded and Kafka holds the rest.
                    await Task.Delay(pipeline.Value.FlushInterval, ct);
                    await FlushAsync(ct);
                    continue;
                }
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    window.CancelAfter(pipeline.Value.FlushInterval);
                    try
                    {
                        while (await messages.Reader.WaitToReadAsync(window.Token))
                        {
                            while (messages.Reader.TryRead(out var message))
                            {
                                Take(message);
                            }
                        }
                        break; // the reader ended
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // Flush interval reached.
                    }
                }
                await FlushAsync(ct);
            }
        }
        finally
        {
            await reader.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private void Consume(KafkaSourceSpec spec, ChannelWriter<ConsumeResult<Ignore, string>> writer, CancellationToken ct)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = spec.BootstrapServers, GroupId = spec.GroupId, EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest, EnablePartitionEof = false,
        };
        using var consumer = new ConsumerBuilder<Ignore, string>(config)
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                foreach (var p in partitions)
                {
                    _assigned.Enqueue(p.Partition.Value);
                }
            })
            .Build();
        consumer.Subscribe(spec.Topic);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                while (_commits.TryDequeue(out var offsets))
                {
                    consumer.Commit(offsets);
                }
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } message)
                    {
                        while (!writer.TryWrite(message))
                        {
                            writer.WaitToWriteAsync(ct).AsTask().GetAwaiter().GetResult();
                        }
                    }
                    _error = null;
                }
                catch (ConsumeException e)
                {
                    _error = e.Error.Reason;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            while (_commits.TryDequeue(out var offsets))
            {
                consumer.Commit(offsets);
            }
            consumer.Close();
            writer.TryComplete();
        }
    }

    private void Take(ConsumeResult<Ignore, string> message)
    {
        // Assignments are queued before their messages: every assigned partition counts for the watermark.
        while (_assigned.TryDequeue(out var partition))
        {
            _cleanser!.Assigned(partition, DateTimeOffset.UtcNow);
        }
        var s = state.State;
        var tag = new Offset(message.Partition.Value, message.Offset.Value);
        _consumedUpTo[tag.Partition] = tag.Value + 1;
        _taken = true;
        s.Consumed++;
        var (e, errors) = _validator.Check(message.Message.Value ?? "");
        if (e is null)
        {
            s.Invalid++;
            _lateUnwritten.Add((DateTimeOffset.UtcNow, EventFiles.LateLine("invalid: " + string.Join("; ", errors), tag.Partition, tag.Value, message.Message.Value ?? ""), tag));
            return;
        }
        switch (_cleanser!.Add(e, tag.Partition, DateTimeOffset.UtcNow, tag))
        {
            case CleanseOutcome.Duplicate:
                s.Duplicates++;
                break;
            case CleanseOutcome.Late:
                s.Late++;
                var reason = $"late: occurred_at {e.OccurredAt:O} is not after the watermark {new DateTimeOffset(_cleanser.WatermarkTicks, TimeSpan.Zero):O} (allowed lateness {state.State.Spec!.AllowedLateness ?? DEFAULT_ALLOWED_LATENESS})";
                _lateUnwritten.Add((e.OccurredAt, EventFiles.LateLine(reason, tag.Partition, tag.Value, e.Json), tag));
                break;
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_pinned is null)
        {
            // A failed write is retried with exactly its events: nothing new is released until it succeeds.
            foreach (var (e, tag) in _cleanser!.Release(DateTimeOffset.UtcNow))
            {
                _unwritten.Add((e, (Offset)tag!));
            }
        }
        if (_unwritten.Count == 0 && _lateUnwritten.Count == 0 && !_taken && !_stateOwed)
        {
            return;
        }
        var s = state.State;
        var spec = s.Spec!;
        var sequence = s.Flushes + 1;
        var time = _pinned ?? DateTimeOffset.UtcNow;
        var late = _lateUnwritten.Count;
        var files = 0;
        try
        {
            // Late lines first: their file is rewritten whole (with more lines) by a retry; the events' hand-over is final.
            if (late > 0)
            {
                await _files.WriteAsync(_files.LatePrefix(spec.Id), sequence, _lateUnwritten.Select(u => (u.Time, u.Line)).ToArray(), ct);
                files++;
            }
            if (_unwritten.Count > 0)
            {
                if (Iceberg(spec))
                {
                    await _table!.WriteAsync(_columns!, sequence, _unwritten.Select(u => EventColumns.RowOf(_columns!, u.Event, u.Tag.Partition, u.Tag.Value)).ToArray(), time, ct);
                }
                else
                {
                    await _files.WriteAsync(_files.SourcePrefix(spec.Id), sequence, _unwritten.Select(u => (u.Event.OccurredAt, u.Event.Json)).ToArray(), ct);
                }
                files++;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing counted: the next flush writes the same events under the same keys again.
            _pinned = time;
            _error = e.Message;
            LakeLog.FlushFailed(logger, spec.Id, _unwritten.Count, e);
            return;
        }
        if (_pinned is not null)
        {
            // Reading paused while the lake refused writes: that silence is not the partitions going idle.
            _cleanser!.Resumed(DateTimeOffset.UtcNow);
            _pinned = null;
        }
        if (files > 0)
        {
            s.Flushes = sequence;
            s.Written += _unwritten.Count;
            s.Files += files;
            s.EidsSinceSnapshot += _unwritten.Count;
        }
        _unwritten.Clear();
        _lateUnwritten.RemoveRange(0, late);
        _taken = false;
        s.WatermarkTicks = _cleanser!.WatermarkTicks;
        var replaced = 0L;
        if (!Iceberg(spec))
        {
            s.Eids = _cleanser.SaveEids();
        }
        else if (files > 0 && EventTable.SnapshotDue(spec.DedupWindow, s.EidsSinceSnapshot, s.Flushes - s.EidSnapshot))
        {
            // The window is saved now and then, not with every flush: its cost follows what was written.
            try
            {
                await _table!.SaveEidsAsync(s.Flushes, _cleanser.SaveEids(), ct);
                (replaced, s.EidSnapshot, s.EidsSinceSnapshot, s.Eids) = (s.EidSnapshot, s.Flushes, 0, []);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The window saved before stays the record, with the files since; the next flush tries again.
                LakeLog.FlushFailed(logger, spec.Id, 0, e);
            }
        }
        try
        {
            await state.WriteStateAsync(ct);
            _stateOwed = false;
            if (replaced > 0)
            {
                await _table!.DeleteEidsAsync(replaced);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The events are durable; the state is saved by the next flush, and no offset is committed before.
            _stateOwed = true;
            _error = e.Message;
            LakeLog.FlushFailed(logger, spec.Id, 0, e);
            return;
        }
        // Commit below the oldest event still waiting in each partition; past everything read where none waits.
        var waiting = _cleanser.WaitingTags.Cast<Offset>().GroupBy(t => t.Partition).ToDictionary(g => g.Key, g => g.Min(t => t.Value));
        var offsets = _consumedUpTo.Select(kv => new TopicPartitionOffset(spec.Topic, kv.Key, waiting.TryGetValue(kv.Key, out var oldest) ? oldest : kv.Value)).ToList();
        _commits.Enqueue(offsets);
    }

    private KafkaSourceInfo Info()
    {
        var s = state.State;
        return new KafkaSourceInfo(s.Spec!.Id, s.Spec.Topic, s.Spec.GroupId!, _loop.IsCompleted ? "Stopped" : "Running", _error,
            s.Consumed, s.Written, s.Duplicates, s.Late, s.Invalid, s.Files, s.WatermarkTicks == 0 ? null : new DateTimeOffset(s.WatermarkTicks, TimeSpan.Zero));
    }


    private sealed record Offset(int Partition, long Value);
}

/// <summary>A Kafka source's stored state.</summary>
[GenerateSerializer, Alias("saiki.kafka-source-state")]
public sealed class KafkaSourceState
{
    [Id(0)] public KafkaSourceSpec? Spec { get; set; }
    [Id(1)] public List<string> Eids { get; set; } = [];
    [Id(2)] public long WatermarkTicks { get; set; }
    [Id(3)] public long Flushes { get; set; }
    [Id(4)] public long Consumed { get; set; }
    [Id(5)] public long Written { get; set; }
    [Id(6)] public long Duplicates { get; set; }
    [Id(7)] public long Late { get; set; }
    [Id(8)] public long Invalid { get; set; }
    [Id(9)] public long Files { get; set; }
    /// <summary>The flush whose dedup window is saved in the event table's folder (0: none; Iceberg only); the window is that plus the files since.</summary>
    [Id(10)] public long EidSnapshot { get; set; }
    /// <summary>Events written since <see cref="EidSnapshot"/>.</summary>
    [Id(11)] public long EidsSinceSnapshot { get; set; }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using Orleans.Streams.Core;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Materialization;

/// <summary>
/// Cleanses and materializes one table partition. Batches arrive on the partition's stream; the grain checks
/// their epoch and sequence (a gap means a batch was lost in transit, so it asks the source to replay), drops
/// changes at or below what it has already seen (replays), buffers the rest and writes a lake file when the
/// buffer is full or old enough. Only after data file, manifest entry and state are written does it acknowledge
/// the position to the source (with Kafka on, the changes are published and acknowledged by the brokers before
/// the manifest entry is written). Not reentrant: a flush holds back the next batch, which is the back-pressure.
/// </summary>
[ImplicitStreamSubscription(PartitionAddress.StreamNamespace)]
// New partitions go to the least loaded silo; existing ones move there through the rebalancer.
[ActivationCountBasedPlacement]
public sealed class PartitionGrain : Grain, IPartitionGrain, IStreamSubscriptionObserver, IAsyncObserver<ChangeBatch>
{
    private readonly IPersistentState<PartitionGrainState> _state;
    private readonly ILakeStore _store;
    private readonly KafkaPublisher _kafka;
    private readonly Serializer _serializer;
    private readonly LakeLayout _layout;
    private readonly Manifest _manifest;
    private readonly PipelineOptions _options;
    private readonly ILogger<PartitionGrain> _logger;
    private readonly ProcessCatalog _processes;
    private readonly List<(TableSchema Schema, ChangeEvent Event)> _buffer = new();
    private readonly Stopwatch _bufferAge = new();
    private PartitionAddress _address = null!;
    private Position _lastSeen;
    private long _epoch;
    private long _nextSequence;
    private long? _gapEpoch;
    private long _duplicates;
    private string? _lastError;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private int _failures;
    private bool _ackOwed;

    /// <summary>Created by Orleans.</summary>
    public PartitionGrain(
        [PersistentState("partition", SaikiNames.Storage)] IPersistentState<PartitionGrainState> state,
        ILakeStore store,
        LakeLayout layout,
        KafkaPublisher kafka,
        Serializer serializer,
        IOptions<PipelineOptions> options,
        ProcessCatalog processes,
        ILogger<PartitionGrain> logger)
    {
        _processes = processes;
        _state = state;
        _store = store;
        _layout = layout;
        _kafka = kafka;
        _serializer = serializer;
        _manifest = new Manifest(store, layout);
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _address = PartitionAddress.Parse(this.GetPrimaryKeyString());
        await RecoverFromLakeAsync(cancellationToken);
        _lastSeen = _state.State.Durable;
        _epoch = _state.State.Epoch;
        _nextSequence = _state.State.NextSequence;
        var tick = TimeSpan.FromTicks(Math.Max(_options.FlushInterval.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks));
        this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(tick, tick));
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await TryFlushAsync();
    }

    /// <inheritdoc />
    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<ChangeBatch>().ResumeAsync(this);

    /// <inheritdoc />
    public async Task OnNextAsync(ChangeBatch batch, StreamSequenceToken? token = null)
    {
        if (!Accept(batch))
        {
            return;
        }
        var added = 0;
        foreach (var stand in batch.Events)
        {
            var change = stand.Spilled is { } spilled ? await ClaimAsync(spilled) : stand;
            if (change.Position <= _lastSeen)
            {
                _duplicates++;
                SaikiMetrics.DuplicatesDropped.Add(1);
                continue;
            }
            if (_buffer.Count == 0)
            {
                _bufferAge.Restart();
            }
            _buffer.Add((batch.Schema, change));
            _lastSeen = change.Position;
            added++;
        }
        if (added == 0 && _buffer.Count == 0)
        {
            // Nothing new and nothing waiting: tell the source the replayed changes are already durable.
            await AcknowledgeAsync();
        }
        if (_buffer.Count >= _options.MaxBufferedChanges)
        {
            await TryFlushAsync();
        }
    }

    private async Task<ChangeEvent> ClaimAsync(string key) =>
        _serializer.Deserialize<ChangeEvent>(await _store.GetAsync(key) ?? throw new InvalidOperationException($"claim check {key} is missing from the lake"))
        ?? throw new InvalidDataException($"claim check {key} is empty");

    /// <inheritdoc />
    public Task OnCompletedAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<PartitionInfo> GetAsync() => Task.FromResult(new PartitionInfo(
        _address, _state.State.Durable, _state.State.RowsWritten, _state.State.FilesWritten,
        _buffer.Count, _duplicates, _state.State.LastFlush, _lastError));

    /// <inheritdoc />
    public Task FlushAsync() => TryFlushAsync();

    /// <summary>Checks epoch and sequence; false when the batch must be ignored.</summary>
    private bool Accept(ChangeBatch batch)
    {
        if (batch.Epoch < _epoch || batch.Epoch == _gapEpoch)
        {
            // A superseded capture run, or one whose gap is being replayed by a newer run.
            return false;
        }
        var expected = batch.Epoch > _epoch ? 0 : _nextSequence;
        if (batch.Sequence < expected)
        {
            return false; // delivered again
        }
        if (batch.Sequence > expected)
        {
            LakeLog.Gap(_logger, _address.ToString(), batch.Epoch, batch.Sequence, batch.Epoch, expected);
            _gapEpoch = batch.Epoch;
            var source = GrainFactory.GetGrain<ISourceGrain>(_address.SourceId);
            source.ResynchronizeAsync(batch.Epoch, $"partition {_address} missed batches {expected}..{batch.Sequence - 1} of epoch {batch.Epoch}")
                .Ignore();
            return false;
        }
        _epoch = batch.Epoch;
        _nextSequence = batch.Sequence + 1;
        return true;
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (_buffer.Count > 0 && _bufferAge.Elapsed >= _options.FlushInterval && DateTimeOffset.UtcNow >= _retryAt)
        {
            await TryFlushAsync();
        }
        else if (_ackOwed)
        {
            await AcknowledgeAsync();
        }
    }

    /// <summary>
    /// Writes the buffer as one file per run of changes with the same schema version (so no file mixes versions),
    /// each followed by its manifest entry; then the state, then the acknowledgement. A failure keeps the buffer:
    /// the retry cuts the same runs and so writes the same keys.
    /// </summary>
    private async Task TryFlushAsync()
    {
        if (_buffer.Count == 0)
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            ManifestEntry? last = null;
            var bytes = 0L;
            var files = 0;
            for (var start = 0; start < _buffer.Count;)
            {
                var version = _buffer[start].Schema.Version;
                var end = start;
                while (end < _buffer.Count && _buffer[end].Schema.Version == version)
                {
                    end++;
                }
                last = await WriteFileAsync(_buffer.GetRange(start, end - start));
                bytes += last.Bytes;
                files++;
                start = end;
            }

            var s = _state.State;
            s.Durable = last!.Last;
            s.Epoch = _epoch;
            s.NextSequence = _nextSequence;
            s.RowsWritten += _buffer.Count;
            s.FilesWritten += files;
            s.LastFlush = last.WrittenAt;
            s.LastCommitTime = last.MaxCommitTime;
            await _state.WriteStateAsync();

            await RouteToProcessesAsync();
            SaikiMetrics.RowsWritten.Add(_buffer.Count);
            SaikiMetrics.BytesWritten.Add(bytes);
            SaikiMetrics.FlushSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _buffer.Clear();
            _lastError = null;
            _failures = 0;
        }
        catch (Exception e)
        {
            // Keep everything buffered: the checkpoint does not move, and the next attempt writes the same keys.
            _failures++;
            _lastError = e.Message;
            _retryAt = DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(_failures, 10))));
            SaikiMetrics.FlushErrors.Add(1);
            LakeLog.FlushFailed(_logger, _address.ToString(), _buffer.Count, e);
            return;
        }
        await AcknowledgeAsync();
    }

    /// <summary>
    /// Hands the durable changes that match process steps to the process partitions, in commit order, before the
    /// source hears they are durable (so a source's "complete up to" time covers what monitoring has received).
    /// Monitoring failing does not fail the flush: the lake is the record.
    /// </summary>
    private async Task RouteToProcessesAsync()
    {
        try
        {
            var streams = this.GetStreamProvider(SaikiNames.StreamProvider);
            foreach (var (key, events) in _processes.Route(_address, _buffer))
            {
                var stream = streams.GetStream<ProcessEventBatch>(StreamId.Create(ProcessCatalog.StreamNamespace, key));
                foreach (var chunk in events.Chunk(ProcessCatalog.MAX_BATCH))
                {
                    await stream.OnNextAsync(new ProcessEventBatch(chunk));
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ProcessLog.RoutingFailed(_logger, _address.ToString(), _buffer.Count, e);
        }
    }

    private async Task<ManifestEntry> WriteFileAsync(List<(TableSchema Schema, ChangeEvent Event)> run)
    {
        var first = run[0].Event;
        var last = run[^1].Event;
        var key = _layout.DataKey(_address, first.Position, last.Position, first.CommitTime);
        var content = ChangeFile.Write(_address, run);
        await _store.PutAsync(key, content);
        // Kafka before the manifest entry: an entry means "in the lake and on the bus", which recovery relies on.
        await DeadLetters.WriteAsync(_store, _layout, await _kafka.PublishAsync(_address, run));
        await _manifest.AddSchemaAsync(_address.SourceId, run[0].Schema);
        var entry = new ManifestEntry(key, _address.SourceId, _address.Table, _address.Partition, run.Count, content.Length,
            first.Position, last.Position, run.Min(b => b.Event.CommitTime), run.Max(b => b.Event.CommitTime), DateTimeOffset.UtcNow,
            run[0].Schema.Version);
        await _manifest.AddAsync(_address, entry);
        SaikiMetrics.FilesWritten.Add(1);
        LakeLog.Flushed(_logger, _address.ToString(), run.Count, key);
        return entry;
    }

    private async Task AcknowledgeAsync()
    {
        try
        {
            var s = _state.State;
            await GrainFactory.GetGrain<ISourceGrain>(_address.SourceId)
                .AcknowledgeAsync(new PartitionAck(_address, s.Durable, s.RowsWritten, s.FilesWritten));
            _ackOwed = false;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The source may be moving between silos; the timer acknowledges again.
            _ackOwed = true;
        }
    }

    /// <summary>
    /// A crash can land between writing a file (and its manifest entry) and writing this grain's state. The
    /// manifest is the truth: adopt entries past the stored position, then delete data files that no entry
    /// lists, so the replay that follows cannot leave a second copy of the same changes in the lake.
    /// </summary>
    private async Task RecoverFromLakeAsync(CancellationToken ct)
    {
        var s = _state.State;
        var adopted = false;
        await foreach (var entry in _manifest.ListAsync(_address, s.FilesWritten > 0 ? s.Durable : null, ct))
        {
            s.Durable = entry.Last;
            s.RowsWritten += entry.Rows;
            s.FilesWritten++;
            s.LastCommitTime = entry.MaxCommitTime;
            // The batch sequence of adopted changes is unknown, so the next batch is checked as a new epoch.
            s.Epoch = 0;
            s.NextSequence = 0;
            adopted = true;
        }
        var orphans = 0;
        var from = (s.LastCommitTime ?? DateTimeOffset.UtcNow.AddDays(-2)).UtcDateTime.Date;
        for (var day = from; day <= DateTime.UtcNow.Date.AddDays(1); day = day.AddDays(1))
        {
            await foreach (var key in _store.ListAsync(_layout.DataPrefix(_address, new DateTimeOffset(day, TimeSpan.Zero)), null, ct))
            {
                if (LakeLayout.FirstPositionOfDataKey(key) is { } firstPosition && firstPosition > s.Durable)
                {
                    await _store.DeleteAsync(key, ct);
                    orphans++;
                }
            }
        }
        if (adopted)
        {
            await _state.WriteStateAsync(ct);
        }
        if (adopted || orphans > 0)
        {
            LakeLog.Recovered(_logger, _address.ToString(), s.Durable.ToString(), orphans);
        }
    }
}

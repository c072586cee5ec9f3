using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Serialization;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Storage;

namespace Saiki.Orleans.Sources;

/// <summary>
/// Captures one DynamoDB table through its stream. Shard grains read the shards (one grain per shard, a child
/// shard only after its parent is read to its end, so each key's changes keep their order across splits); this
/// grain merges their records into one sequence of positions and feeds the same partitions, lake files and Kafka
/// topics as every other source.
/// <para>
/// Exactly-once output rests on a read log: before the changes of a round of reads go out, the round (which
/// shard, after which sequence number, through which one, from which position) is written to the grain's state.
/// After a crash the log is replayed first, so every change gets the position it had, and partitions drop what
/// they already hold. A shard's checkpoint (the sequence number to resume after) moves only when every change of
/// its logged reads is durable; then the reads leave the log.
/// </para>
/// </summary>
[Immovable(ImmovableKind.Rebalancer)]
[Reentrant]
public sealed class DynamoSourceGrain : Grain, IDynamoSourceGrain
{
    private const int ReadLimit = 1000;
    private static readonly TimeSpan ShardRefreshInterval = TimeSpan.FromSeconds(10);
    /// <summary>Records reach a stream within about a second of their creation time (rounded down to the second).</summary>
    private static readonly TimeSpan CompletenessMargin = TimeSpan.FromSeconds(2);
    private readonly IPersistentState<DynamoSourceGrainState> _state;
    private readonly SerialStateWriter<DynamoSourceGrainState> _writes;
    private readonly PipelineOptions _options;
    private readonly ILakeStore _lake;
    private readonly LakeLayout _layout;
    private readonly Serializer _serializer;
    private readonly ILogger<DynamoSourceGrain> _logger;
    private readonly CheckpointTracker _tracker = new();
    private ChangeBatcher _batcher = null!;
    private readonly Dictionary<string, string?> _cursor = new(StringComparer.Ordinal);
    private DynamoTableShape? _shape;
    private PartitionAddress[] _addresses = [];
    private readonly CaptureLoop _loop;
    private bool _dirty;
    private string? _lastError;
    private DateTimeOffset? _lastCommitTime;
    private DateTimeOffset? _completenessWritten;
    private long _capturedAtLastLog;
    private readonly Stopwatch _sinceLog = Stopwatch.StartNew();

    /// <summary>Created by Orleans.</summary>
    public DynamoSourceGrain(
        [PersistentState("dynamo-source", SaikiNames.Storage)] IPersistentState<DynamoSourceGrainState> state,
        IOptions<PipelineOptions> options,
        ILakeStore lake,
        LakeLayout layout,
        Serializer serializer,
        ILogger<DynamoSourceGrain> logger)
    {
        _state = state;
        _writes = new SerialStateWriter<DynamoSourceGrainState>(state);
        _options = options.Value;
        _lake = lake;
        _layout = layout;
        _serializer = serializer;
        _logger = logger;
        _loop = new CaptureLoop(() => ShouldCapture, RunOnceAsync, OnRunFailed);
    }

    private string Id => this.GetPrimaryKeyString();

    private bool ShouldCapture => _state.State.Spec is not null && _state.State.State is SourceState.Starting or SourceState.Running or SourceState.Snapshotting;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _batcher = new ChangeBatcher(this.GetStreamProvider(SaikiNames.StreamProvider), _lake, _layout, _serializer, _tracker, SourceKind.DynamoDb);
        this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
        _loop.StartIfNeeded();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await StopLoopAsync();
        if (_dirty && _state.State.Spec is not null)
        {
            await _writes.WriteAsync();
        }
    }

    /// <inheritdoc />
    public async Task<SourceInfo> RegisterAsync(DynamoSourceSpec spec)
    {
        if (_state.State.Registered)
        {
            throw new SourceValidationException($"source '{Id}' is already registered; remove it first to register it again");
        }
        if (spec.Id != Id)
        {
            throw new SourceValidationException($"source id '{spec.Id}' does not match grain '{Id}'");
        }
        var accepted = DynamoSourceAdmin.ValidateShape(spec);
        if (accepted.AccessKeyId is null && !_options.AllowsSiloCredentials(accepted.Table))
        {
            throw new SourceValidationException(
                $"source '{spec.Id}' gives no accessKeyId, so it would read table '{accepted.Table}' as the silo itself, and the table is not in " +
                $"{PipelineOptions.Section}:SiloCredentialTables; give accessKeyId and secretAccessKey, or have an operator list the table there");
        }
        var table = await DynamoSourceAdmin.ValidateAsync(accepted, default);
        var state = new DynamoSourceGrainState
        {
            Spec = accepted, State = SourceState.Starting, RegisteredAt = DateTimeOffset.UtcNow,
            StreamArn = table.StreamArn, Columns = [.. table.KeyColumns], KeyCount = table.KeyColumns.Count,
        };
        // The stream is read from the shards' start, but records older than this are already in the snapshot
        // (which starts after it) or, without a snapshot, were written before the registration.
        state.From = DateTimeOffset.UtcNow;
        using (var streams = new DynamoStreamsClient(DynamoSourceAdmin.StreamsEndpoint(DynamoConnection.Of(accepted))))
        {
            foreach (var shard in (await streams.DescribeStreamAsync(table.StreamArn, default)).Shards)
            {
                state.Shards[shard.ShardId] = new ShardCheckpoint { Parent = shard.ParentShardId };
            }
        }
        if (accepted.Snapshot == SnapshotMode.Initial)
        {
            state.Snapshot = NewSnapshot(state, @base: 0);
            state.State = SourceState.Snapshotting;
        }
        _state.State = state;
        await _writes.WriteAsync();
        DynamoLog.Registered(_logger, Id, accepted.Table, table.StreamArn, state.Shards.Count, state.Snapshot is not null);
        _loop.StartIfNeeded();
        return Info();
    }

    /// <inheritdoc />
    public async Task<SourceInfo> ResnapshotAsync()
    {
        if (_state.State.Spec is not { } spec || _state.State.State == SourceState.Removed)
        {
            throw new SourceValidationException($"source '{Id}' is not registered");
        }
        await StopLoopAsync();
        var s = _state.State;
        s.Shards.Clear();
        using (var streams = new DynamoStreamsClient(DynamoSourceAdmin.StreamsEndpoint(DynamoConnection.Of(spec))))
        {
            var table = await DynamoSourceAdmin.ValidateAsync(spec, default);
            s.StreamArn = table.StreamArn;
            foreach (var shard in (await streams.DescribeStreamAsync(table.StreamArn, default)).Shards)
            {
                s.Shards[shard.ShardId] = new ShardCheckpoint { Parent = shard.ParentShardId };
            }
        }
        // The truncate goes to every partition at the next position, the new snapshot's rows right after it, and
        // the stream (read again from the shards' start, older records skipped) after those.
        s.Log.Clear();
        s.From = DateTimeOffset.UtcNow;
        s.Snapshot = NewSnapshot(s, @base: s.NextPosition + 1);
        s.TruncateAt = s.NextPosition;
        s.NextPosition += 2;
        s.State = SourceState.Snapshotting;
        s.Error = null;
        _lastError = null;
        await _writes.WriteAsync();
        _loop.StartIfNeeded();
        return Info();
    }

    private DynamoSnapshot NewSnapshot(DynamoSourceGrainState state, ulong @base)
    {
        var snapshot = new DynamoSnapshot { Base = @base, FirstChunk = state.ChunksUsed, StartedAt = DateTimeOffset.UtcNow };
        for (var segment = 0; segment < state.Spec!.ScanSegments; segment++)
        {
            snapshot.Segments.Add(new ScanSegment { Segment = segment });
        }
        state.ChunksUsed += state.Spec.ScanSegments;
        return snapshot;
    }

    /// <inheritdoc />
    public Task<SourceInfo?> GetAsync() =>
        Task.FromResult(_state.State.Registered ? Info() : null);

    /// <inheritdoc />
    public async Task RemoveAsync()
    {
        if (_state.State.Spec is null)
        {
            return;
        }
        await SourcePause.StopForRemovalAsync(_state.State, StopLoopAsync, () => Task.CompletedTask, _loop);
        await _writes.ClearAsync();
        _state.State = new DynamoSourceGrainState();
        SaikiMetrics.ForgetSource(Id);
        SourceLog.Removed(_logger, Id);
        this.DeactivateOnIdle();
    }

    /// <inheritdoc />
    public async Task<SourceInfo> PauseAsync()
    {
        if (await SourcePause.PauseAsync(_state.State, Id, StopLoopAsync, _writes.WriteAsync))
        {
            SourceLog.Paused(_logger, Id, $"position {_state.State.Confirmed}");
        }
        return Info();
    }

    /// <inheritdoc />
    public async Task<SourceInfo> ResumeAsync()
    {
        await SourcePause.ResumeAsync(_state.State, Id, _writes.WriteAsync, _loop);
        SourceLog.Resumed(_logger, Id);
        return Info();
    }

    /// <inheritdoc />
    public Task EnsureRunningAsync()
    {
        _loop.StartIfNeeded();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task AcknowledgeAsync(PartitionAck ack)
    {
        if (!SourceAcknowledgements.Accept(_tracker, ack, Id, _logger, out var confirmable))
        {
            return Task.CompletedTask;
        }
        _state.State.Partitions[ack.Partition.ToString()] = new PartitionCounters(ack.RowsWritten, ack.FilesWritten);
        _dirty = true;
        if (confirmable)
        {
            Confirm();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ResynchronizeAsync(long epoch, string reason)
    {
        if (epoch == _state.State.Epoch && _loop.Restart())
        {
            _lastError = reason;
            SourceLog.CaptureRestarting(_logger, Id, TimeSpan.Zero, reason);
        }
        return Task.CompletedTask;
    }

    private async Task StopLoopAsync()
    {
        await _loop.StopAsync();
        if (_state.State.State == SourceState.Running)
        {
            _state.State.State = SourceState.Starting;
        }
    }

    /// <summary>One capture run (a new epoch): pending truncate and snapshot, then the read log replayed, then the stream.</summary>
    private async Task RunOnceAsync(CancellationToken ct)
    {
        var s = _state.State;
        s.Epoch++;
        await _writes.WriteAsync();
        _dirty = false;
        _tracker.Restarted(_state.State.Epoch);
        _batcher.Restart(s.Epoch);
        _shape = new DynamoTableShape(s.Spec!.Table, s.Columns, s.KeyCount);
        _addresses = Enumerable.Range(0, s.Spec.Partitions).Select(p => new PartitionAddress(Id, s.Spec.Table, p)).ToArray();
        if (s.TruncateAt is { } truncateAt)
        {
            await EmitTruncateAsync(truncateAt);
        }
        if (s.Snapshot is { Completed: false } snapshot)
        {
            s.State = SourceState.Snapshotting;
            await RunSnapshotAsync(s.Spec, snapshot, ct);
        }
        s.State = SourceState.Running;
        SourceLog.CaptureStarted(_logger, Id, s.Epoch);
        await ReplayLogAsync(ct);
        await StreamAsync(ct);
        if (_state.State.State == SourceState.Failed)
        {
            await _writes.WriteAsync();
            _dirty = false;
        }
    }

    /// <summary>Every failed run is retried after the back-off (lost records fail the source in the run itself).</summary>
    private bool OnRunFailed(Exception e, TimeSpan backoff)
    {
        _lastError = e.Message;
        if (_state.State.State == SourceState.Running)
        {
            _state.State.State = SourceState.Starting;
        }
        SourceLog.CaptureRestarting(_logger, Id, backoff, e.Message);
        return true;
    }

    /// <summary>Segments not yet durable are scanned a few at a time on segment grains spread over the silos.</summary>
    private async Task RunSnapshotAsync(DynamoSourceSpec spec, DynamoSnapshot snapshot, CancellationToken ct)
    {
        var connection = DynamoConnection.Of(spec);
        var pending = new Queue<ScanSegment>(snapshot.Segments.Where(s => !s.Done));
        var running = new Dictionary<Task<long>, ScanSegment>();
        while (pending.Count > 0 || running.Count > 0)
        {
            while (running.Count < _options.SnapshotParallelism && pending.TryDequeue(out var next))
            {
                var work = new DynamoScanWork(Id, connection, spec.Table, next.Segment, snapshot.Segments.Count,
                    snapshot.FirstChunk + next.Segment, new Position(snapshot.Base, (uint)next.Segment), snapshot.StartedAt);
                running[GrainFactory.GetGrain<IDynamoScanSegmentGrain>($"{Id}|{spec.Table}|{work.Chunk}").ReadAsync(work)] = next;
            }
            var finished = await Task.WhenAny(running.Keys).WaitAsync(ct);
            var segment = running[finished];
            running.Remove(finished);
            segment.Rows = await finished;
            segment.Done = true;
            await _writes.WriteAsync();
        }
        if (_state.State.NextPosition <= snapshot.Base)
        {
            _state.State.NextPosition = snapshot.Base + 1;
        }
        SnapshotLog.Completed(_logger, Id, snapshot.Segments.Sum(s => s.Rows), (DateTimeOffset.UtcNow - snapshot.StartedAt).TotalSeconds, $"position {_state.State.NextPosition}");
    }

    /// <summary>Sends the truncate that starts a re-snapshot to every partition.</summary>
    private async Task EmitTruncateAsync(ulong position)
    {
        foreach (var address in _addresses)
        {
            _batcher.Add(address, _shape!.Schema, new ChangeEvent(ChangeOperation.Truncate, new Position(position, 0), DateTimeOffset.UtcNow, null, null));
        }
        await _batcher.PublishAsync();
        _tracker.Committed(position, DateTimeOffset.UtcNow);
    }

    /// <summary>Reads the logged reads again, in order, giving their changes the positions they had.</summary>
    private async Task ReplayLogAsync(CancellationToken ct)
    {
        var s = _state.State;
        _cursor.Clear();
        foreach (var (id, shard) in s.Shards)
        {
            _cursor[id] = shard.Checkpoint;
        }
        if (s.Log.Count == 0)
        {
            return;
        }
        DynamoLog.Replaying(_logger, Id, s.Log.Count, s.Log[0].FirstPosition);
        foreach (var round in s.Log.ToArray().GroupBy(r => r.UpTo))
        {
            foreach (var read in round)
            {
                var page = await Shard(read.ShardId).ReadAsync(new ShardRead(DynamoConnection.Of(s.Spec!), s.StreamArn, read.ShardId, read.After, int.MaxValue, read.Through));
                if (page.Lost is { } lost)
                {
                    Fail(lost);
                    return;
                }
                var next = read.FirstPosition;
                foreach (var record in page.Records)
                {
                    Emit(record, ref next);
                }
                _cursor[read.ShardId] = read.Through;
            }
            await _batcher.PublishAsync();
            _tracker.Committed(round.Key, DateTimeOffset.UtcNow - CompletenessMargin);
        }
        Confirm();
    }

    /// <summary>
    /// Rounds of reads over every shard that may be read (not retired, parent read to its end): log the round,
    /// then send its changes. Shards are listed again now and then and whenever one ends.
    /// </summary>
    private async Task StreamAsync(CancellationToken ct)
    {
        var s = _state.State;
        var connection = DynamoConnection.Of(s.Spec!);
        var refreshed = Stopwatch.StartNew();
        var refresh = true;
        while (!ct.IsCancellationRequested && s.State == SourceState.Running)
        {
            if (refresh || refreshed.Elapsed > ShardRefreshInterval)
            {
                if (!await RefreshShardsAsync(connection, ct))
                {
                    return;
                }
                refreshed.Restart();
                refresh = false;
            }
            while (_tracker.InFlightEvents >= _options.MaxPendingChanges)
            {
                await Task.Delay(20, ct);
            }
            var started = DateTimeOffset.UtcNow;
            var readable = s.Shards.Where(kv => !kv.Value.Exhausted && ParentDone(kv.Value)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray();
            var pages = await Task.WhenAll(readable.Select(id =>
                Shard(id).ReadAsync(new ShardRead(connection, s.StreamArn, id, _cursor.GetValueOrDefault(id), ReadLimit)))).WaitAsync(ct);
            var changed = false;
            var behind = DateTimeOffset.MaxValue;
            var first = s.NextPosition;
            var reads = new List<LoggedRead>();
            for (var i = 0; i < readable.Length; i++)
            {
                var (id, page) = (readable[i], pages[i]);
                if (page.Lost is { } lost)
                {
                    Fail(lost);
                    return;
                }
                if (page.Records.Count > 0)
                {
                    var next = s.NextPosition;
                    foreach (var record in page.Records)
                    {
                        Emit(record, ref next);
                    }
                    reads.Add(new LoggedRead(id, _cursor.GetValueOrDefault(id), page.Records[^1].Sequence, s.NextPosition, 0));
                    s.NextPosition = next;
                    _cursor[id] = page.Records[^1].Sequence;
                    if (page.Records.Count >= ReadLimit)
                    {
                        behind = Min(behind, page.Records[^1].Created);
                    }
                }
                if (page.Ended)
                {
                    s.Shards[id].Exhausted = true;
                    refresh = true;
                }
                changed |= page.Records.Count > 0 || page.Ended;
            }
            if (changed)
            {
                var upTo = s.NextPosition - 1;
                s.Log.AddRange(reads.Select(r => r with { UpTo = upTo }));
                // The log entry is durable before any of its changes leaves: a replay gives them the same positions.
                await _writes.WriteAsync();
                _dirty = false;
                await _batcher.PublishAsync();
            }
            _tracker.Committed(s.NextPosition - 1, behind == DateTimeOffset.MaxValue ? started - CompletenessMargin : behind - CompletenessMargin);
            Confirm();
            if (first == s.NextPosition && !refresh)
            {
                await Task.Delay(_options.StreamPollInterval, ct);
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private bool ParentDone(ShardCheckpoint shard) =>
        shard.Parent is not { } parent || !_state.State.Shards.TryGetValue(parent, out var p) || p.Exhausted;

    /// <summary>
    /// Lists the stream's shards: new ones join (from their start), and a shard we still had to read that the
    /// stream no longer lists had its records trimmed. False when the source failed.
    /// </summary>
    private async Task<bool> RefreshShardsAsync(DynamoConnection connection, CancellationToken ct)
    {
        var s = _state.State;
        StreamDescription stream;
        using (var client = new DynamoStreamsClient(DynamoSourceAdmin.StreamsEndpoint(connection)))
        {
            try
            {
                stream = await client.DescribeStreamAsync(s.StreamArn, ct);
            }
            catch (DynamoStreamsException e) when (e.Error == DynamoStreamsError.ResourceNotFound)
            {
                Fail($"stream {s.StreamArn} of table '{s.Spec!.Table}' no longer exists ({e.ErrorCode}); changes after the last checkpoint cannot be read. Re-snapshot the source");
                return false;
            }
        }
        var listed = stream.Shards.Select(x => x.ShardId).ToHashSet(StringComparer.Ordinal);
        var gone = s.Shards.Where(kv => !kv.Value.Exhausted && !listed.Contains(kv.Key)).Select(kv => kv.Key).ToArray();
        if (gone.Length > 0)
        {
            Fail($"shard {gone[0]} of stream {s.StreamArn} was trimmed (older than the stream's 24 h retention) before it was read to its end; changes are missing. Re-snapshot the source");
            return false;
        }
        foreach (var shard in stream.Shards.Where(x => !s.Shards.ContainsKey(x.ShardId)))
        {
            s.Shards[shard.ShardId] = new ShardCheckpoint { Parent = shard.ParentShardId };
            DynamoLog.ShardFound(_logger, Id, s.Shards.Count, s.Shards.Count(kv => !kv.Value.Finished), shard.ShardId, shard.ParentShardId);
            _dirty = true;
        }
        if (stream.StreamStatus is "DISABLED" && s.Shards.Values.All(x => x.Finished))
        {
            Fail($"the stream of table '{s.Spec!.Table}' was disabled and every record of it is captured; enable it again and re-snapshot the source to continue");
            return false;
        }
        return true;
    }

    /// <summary>Maps one record to a change with the next position; records the snapshot already covers are skipped.</summary>
    private void Emit(DynamoRecord record, ref ulong next)
    {
        var s = _state.State;
        _state.State.ChangesCaptured++;
        if (record.Created < s.From - _options.DynamoSnapshotOverlap)
        {
            return;
        }
        var shape = _shape!;
        if (shape.Observe(record.NewImage) | shape.Observe(record.OldImage))
        {
            s.Columns = [.. shape.Columns];
        }
        var (operation, before, after) = record.EventName switch
        {
            "INSERT" => (ChangeOperation.Insert, shape.Row(record.OldImage), shape.Row(record.NewImage)),
            "MODIFY" => (ChangeOperation.Update, shape.Row(record.OldImage), shape.Row(record.NewImage)),
            "REMOVE" => (ChangeOperation.Delete, shape.Row(record.OldImage ?? record.Keys), null),
            _ => throw new InvalidDataException($"stream record {record.Sequence} has unknown event name '{record.EventName}'"),
        };
        var change = new ChangeEvent(operation, new Position(next++, 0), record.Created, before, after);
        var partition = KeyPartitioner.PartitionOf(shape.Schema.KeyOf(change.KeyImage!), _addresses.Length);
        _batcher.Add(_addresses[partition], shape.Schema, change);
        _lastCommitTime = record.Created;
    }

    private IDynamoShardGrain Shard(string shardId) => GrainFactory.GetGrain<IDynamoShardGrain>($"{Id}|{shardId}");

    /// <summary>Moves shard checkpoints past the logged reads that are now durable and retires finished shards.</summary>
    private void Confirm()
    {
        var s = _state.State;
        var confirmable = _tracker.Confirmable;
        var durable = s.Log.TakeWhile(r => r.UpTo <= confirmable).ToArray();
        foreach (var read in durable)
        {
            s.Shards[read.ShardId].Checkpoint = read.Through;
        }
        s.Log.RemoveRange(0, durable.Length);
        foreach (var (id, shard) in s.Shards.Where(kv => kv.Value is { Exhausted: true, Finished: false }))
        {
            if (!s.Log.Exists(r => r.ShardId == id))
            {
                shard.Finished = true;
                DynamoLog.ShardRetired(_logger, Id, id);
            }
        }
        if (s.TruncateAt is { } truncate && truncate <= confirmable)
        {
            s.TruncateAt = null;
        }
        s.Confirmed = Math.Max(s.Confirmed, confirmable);
        var complete = _tracker.ConfirmedCommitTime;
        if (s.Snapshot is not { Completed: false } && complete > DateTimeOffset.MinValue && (s.CompleteUpTo is null || complete > s.CompleteUpTo))
        {
            s.CompleteUpTo = complete;
        }
        _dirty = true;
    }

    private void Fail(string reason)
    {
        _state.State.State = SourceState.Failed;
        _state.State.Error = reason;
        _dirty = true;
        SourceLog.Failed(_logger, Id, reason);
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        var s = _state.State;
        if (s.Spec is null)
        {
            return;
        }
        if (_tracker.OldestInFlightAge > _options.ResyncAfter && _loop.IsRunning)
        {
            _lastError = $"changes emitted {_tracker.OldestInFlightAge.TotalSeconds:F0} s ago are still not durable";
            SourceLog.CaptureRestarting(_logger, Id, TimeSpan.Zero, _lastError);
            _loop.Restart();
        }
        SaikiMetrics.ReportSource(Id, new SourceGauges(0, 0, LagSeconds()));
        if (s.CompleteUpTo is { } complete && complete != _completenessWritten)
        {
            await new Manifest(_lake, _layout).WriteCompletenessAsync(Id, s.Spec.Table, complete, ct);
            _completenessWritten = complete;
        }
        if (_sinceLog.Elapsed >= TimeSpan.FromSeconds(5))
        {
            var rate = (s.ChangesCaptured - _capturedAtLastLog) / _sinceLog.Elapsed.TotalSeconds;
            _capturedAtLastLog = s.ChangesCaptured;
            _sinceLog.Restart();
            if (ShouldCapture)
            {
                SourceLog.Progress(_logger, Id, rate, $"position {s.Confirmed}", _tracker.PendingEvents);
            }
            if (_dirty)
            {
                _dirty = false;
                await _writes.WriteAsync();
            }
        }
    }

    private double LagSeconds() =>
        _tracker.OldestPendingCommitTime is { } oldest ? Math.Max(0, (DateTimeOffset.UtcNow - oldest).TotalSeconds) : 0;

    private SourceInfo Info()
    {
        var s = _state.State;
        var spec = s.Spec!;
        TableSnapshotInfo[] snapshot = [];
        if (s.Snapshot is { } snap)
        {
            var rows = snap.Segments.Sum(x => x.Rows);
            var seconds = (DateTimeOffset.UtcNow - snap.StartedAt).TotalSeconds;
            snapshot = [new TableSnapshotInfo(spec.Table, snap.Segments.Count(x => x.Done), snap.Segments.Count, rows, seconds <= 0 ? 0 : rows / seconds)];
        }
        var open = s.Shards.Count(kv => !kv.Value.Finished);
        return new SourceInfo(
            Id, SourceGrains.NameOf(SourceKind.DynamoDb), [spec.Table], spec.Partitions, s.State,
            s.State == SourceState.Failed ? s.Error : _lastError,
            s.StreamArn, $"{open} of {s.Shards.Count} shards being read",
            s.Confirmed.ToString(System.Globalization.CultureInfo.InvariantCulture), s.ChangesCaptured,
            s.Partitions.Values.Sum(p => p.Rows), s.Partitions.Values.Sum(p => p.Files),
            null, _lastCommitTime, s.RegisteredAt, snapshot, null, LagSeconds(), [],
            s.Snapshot is { Completed: false } ? null : s.CompleteUpTo);
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Placement;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Capture.Snapshot;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Storage;

namespace Saiki.Orleans.Sources;

/// <summary>
/// Owns one source database: its registration, its capture loop and its checkpoint. The capture loop runs inside
/// the activation and publishes <see cref="ChangeBatch"/>es per table partition; the confirmed LSN moves only when
/// the <see cref="CheckpointTracker"/> has seen every change up to it acknowledged as durable.
/// Reentrant because the capture loop is a long-running turn: acknowledgements, status queries and resync requests
/// must interleave with it. All state is touched only on the activation's scheduler, so no locks are needed.
/// </summary>
// Capture keeps its replication connection: the rebalancer leaves it alone; it moves only when its silo leaves.
[Immovable(ImmovableKind.Rebalancer)]
[Reentrant]
public sealed class SourceGrain : Grain, ISourceGrain
{
    private static readonly TimeSpan CompletenessMargin = TimeSpan.FromSeconds(1);
    private readonly IPersistentState<SourceGrainState> _state;
    private readonly SerialStateWriter<SourceGrainState> _writes;
    private readonly PipelineOptions _options;
    private readonly PrivacyOptions _privacy;
    private readonly ILakeStore _lake;
    private readonly Serializer _serializer;
    private readonly LakeLayout _layout;
    private DateTimeOffset? _completenessWritten;
    private readonly ILogger<SourceGrain> _logger;
    private readonly CheckpointTracker _tracker = new();
    private ChangeBatcher _batcher = null!;
    private readonly CaptureLoop _loop;
    private PostgresCapture? _capture;
    private SlotExport? _export;
    private ColumnPolicy? _policy;
    private WatermarkWindow? _window;
    private Task _windowRead = Task.CompletedTask;
    private readonly List<(ulong Lsn, SnapshotChunk Chunk, long Rows)> _chunksAwaitingDurability = new();
    private IStreamProvider? _streams;
    private bool _dirty;
    private SlotHealth? _health;
    private string? _alert;
    private DateTimeOffset _nextHeartbeat = DateTimeOffset.MinValue;
    private DateTimeOffset? _lastCommitTime;
    private string? _lastError;
    private long _capturedAtLastLog;
    private readonly Stopwatch _sinceLog = Stopwatch.StartNew();

    /// <summary>Created by Orleans.</summary>
    public SourceGrain(
        [PersistentState("source", SaikiNames.Storage)] IPersistentState<SourceGrainState> state,
        IOptions<PipelineOptions> options,
        IOptions<PrivacyOptions> privacy,
        ILakeStore lake,
        LakeLayout layout,
        Serializer serializer,
        ILogger<SourceGrain> logger)
    {
        _serializer = serializer;
        _lake = lake;
        _layout = layout;
        _state = state;
        _writes = new SerialStateWriter<SourceGrainState>(state);
        _options = options.Value;
        _privacy = privacy.Value;
        _logger = logger;
        _loop = new CaptureLoop(() => ShouldCapture, RunOnceAsync, OnRunFailed);
    }

    private string Id => this.GetPrimaryKeyString();

    private bool ShouldCapture => _state.State.Spec is not null && _state.State.State is SourceState.Starting or SourceState.Running or SourceState.Snapshotting;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _streams = this.GetStreamProvider(SaikiNames.StreamProvider);
        _batcher = new ChangeBatcher(_streams, _lake, _layout, _serializer, _tracker, SourceKind.Postgres);
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
    public async Task<SourceInfo> RegisterAsync(PostgresSourceSpec spec)
    {
        if (_state.State.Registered)
        {
            throw new SourceValidationException($"source '{Id}' is already registered; remove it first to register it again");
        }
        if (spec.Id != Id)
        {
            throw new SourceValidationException($"source id '{spec.Id}' does not match grain '{Id}'");
        }
        var accepted = await PostgresSourceAdmin.ValidateAsync(spec, canHash: _privacy.HashKeyBytes is not null);
        var export = await PostgresSourceAdmin.CreatePublicationAndSlotAsync(accepted);
        try
        {
            var state = new SourceGrainState { Spec = accepted, State = SourceState.Starting, RegisteredAt = DateTimeOffset.UtcNow };
            if (accepted.Snapshot == SnapshotMode.Never)
            {
                // Nothing before the slot's start is wanted: its start counts as confirmed.
                state.ConfirmedLsn = export.ConsistentPoint;
            }
            else
            {
                state.Snapshot = new SnapshotPlan { ConsistentPoint = export.ConsistentPoint };
                foreach (var table in accepted.Tables)
                {
                    var (pages, fileNode) = await PostgresSourceAdmin.TableStorageAsync(accepted.ConnectionString, table, default);
                    state.Snapshot.AddTable(table, pages, fileNode, _options.SnapshotChunkPages);
                }
                state.State = SourceState.Snapshotting;
            }
            _state.State = state;
            await _writes.WriteAsync();
            _export = export;
        }
        catch
        {
            await export.DisposeAsync();
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(accepted);
            throw;
        }
        SourceLog.Registered(_logger, Id, string.Join(",", accepted.Tables), accepted.Partitions);
        _loop.StartIfNeeded();
        return Info();
    }

    /// <inheritdoc />
    public async Task<SourceInfo> AddTablesAsync(IReadOnlyList<string> tables)
    {
        if (_state.State.Spec is not { } spec || _state.State.State == SourceState.Removed)
        {
            throw new SourceValidationException($"source '{Id}' is not registered");
        }
        var added = tables.Select(t => PostgresNames.QualifiedTable(t.Trim())).Distinct(StringComparer.Ordinal).ToArray();
        var problems = added.Where(spec.Tables.Contains).Select(t => $"table {t} is already captured by source '{Id}'")
            .Concat(added.Where(t => !PostgresNames.QualifiedTablePattern().IsMatch(t)).Select(t => $"table name '{t}' is not of the form schema.table"))
            .ToList();
        if (added.Length == 0)
        {
            problems.Add("no tables given");
        }
        if (problems.Count > 0)
        {
            throw new SourceValidationException(problems);
        }
        await PostgresSourceAdmin.CheckTablesAsync(spec.ConnectionString, added, default);
        await PostgresSourceAdmin.AddToPublicationAsync(spec, added, default);
        var next = _state.State.Incremental.Count + (_state.State.Snapshot?.Chunks.Count ?? 0);
        foreach (var table in added)
        {
            var (pages, fileNode) = await PostgresSourceAdmin.TableStorageAsync(spec.ConnectionString, table, default);
            var plan = new SnapshotPlan();
            plan.AddTable(table, pages, fileNode, _options.SnapshotChunkPages);
            foreach (var chunk in plan.Chunks)
            {
                chunk.Index = next++;
                _state.State.Incremental.Add(chunk);
            }
        }
        _state.State.Spec = spec with { Tables = [.. spec.Tables, .. added] };
        await _writes.WriteAsync();
        SourceLog.TablesAdded(_logger, Id, string.Join(",", added));
        return Info();
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
        await SourcePause.StopForRemovalAsync(_state.State, StopLoopAsync, ReleaseAsync, _loop);
        await _writes.ClearAsync();
        _state.State = new SourceGrainState();
        SaikiMetrics.ForgetSource(Id);
        SourceLog.Removed(_logger, Id);
        this.DeactivateOnIdle();
    }

    private async Task ReleaseAsync()
    {
        var spec = _state.State.Spec!;
        try
        {
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(spec);
        }
        catch (Exception e) when (e is NpgsqlException or SourceValidationException)
        {
            // SourceValidationException: the database could not be reached at all.
            throw new InvalidOperationException(
                $"source '{Id}' was not removed: dropping its replication slot {PostgresNames.Slot(Id)} and publication failed ({e.Message}); the source is kept, remove it again", e);
        }
    }

    /// <inheritdoc />
    public async Task<SourceInfo> PauseAsync()
    {
        if (await SourcePause.PauseAsync(_state.State, Id, StopLoopAsync, _writes.WriteAsync))
        {
            SourceLog.Paused(_logger, Id, Position.FormatLsn(_state.State.ConfirmedLsn));
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
        // Only the run the partition saw can be restarted; a newer run already replays from the checkpoint.
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
        if (_export is not null)
        {
            await _export.DisposeAsync();
            _export = null;
        }
        if (_state.State.State == SourceState.Running)
        {
            _state.State.State = SourceState.Starting;
        }
    }

    /// <summary>
    /// One capture run: a new epoch that starts at the slot's confirmed position (after the snapshot chunks not yet
    /// durable); a resync cancels it and the <see cref="CaptureLoop"/> starts the next one.
    /// </summary>
    private async Task RunOnceAsync(CancellationToken ct)
    {
        var spec = _state.State.Spec!;
        try
        {
            _state.State.Epoch++;
            await _writes.WriteAsync();
            _dirty = false;
            _tracker.Restarted(_state.State.Epoch);
            _batcher.Restart(_state.State.Epoch);
            if (_state.State.Snapshot is { Completed: false } plan)
            {
                _state.State.State = SourceState.Snapshotting;
                await RunSnapshotAsync(spec, plan, ct);
            }
            _policy = new ColumnPolicy(spec.Columns, _privacy.HashKeyBytes);
            _window = null;
            _chunksAwaitingDurability.Clear();
            await using var capture = new PostgresCapture(spec, _policy, _logger);
            await capture.StartAsync(ct);
            _capture = capture;
            _state.State.State = SourceState.Running;
            SourceLog.CaptureStarted(_logger, Id, _state.State.Epoch);
            await PumpAsync(capture, ct);
        }
        finally
        {
            _capture = null;
        }
    }

    /// <summary>A lost slot fails the source (no retry); anything else is retried after the back-off.</summary>
    private bool OnRunFailed(Exception e, TimeSpan backoff)
    {
        if (e is PostgresException { SqlState: PostgresErrorCodes.UndefinedObject } pg && pg.MessageText.Contains("replication slot", StringComparison.Ordinal))
        {
            Fail($"replication slot {PostgresNames.Slot(Id)} no longer exists ({pg.MessageText}); changes since the last checkpoint cannot be recovered from it. Remove and re-register the source");
            return false;
        }
        _lastError = e.Message;
        if (_state.State.State == SourceState.Running)
        {
            _state.State.State = SourceState.Starting;
        }
        SourceLog.CaptureRestarting(_logger, Id, backoff, e.Message);
        return true;
    }


    /// <summary>
    /// Reads the chunks not yet durable, a few at a time on chunk grains spread over the silos. Streaming starts
    /// only afterwards, at the slot's consistent point, so snapshot rows precede every streamed change.
    /// </summary>
    private async Task RunSnapshotAsync(PostgresSourceSpec spec, SnapshotPlan plan, CancellationToken ct)
    {
        if (plan.StartedAt == default)
        {
            plan.StartedAt = DateTimeOffset.UtcNow;
        }
        SnapshotLog.Planned(_logger, Id, plan.Chunks.Count, spec.Tables.Count, Position.FormatLsn(plan.ConsistentPoint));
        var pending = new Queue<SnapshotChunk>(plan.Chunks.Where(c => !c.Done));
        var running = new Dictionary<Task<long>, SnapshotChunk>();
        while (pending.Count > 0 || running.Count > 0)
        {
            while (running.Count < _options.SnapshotParallelism && pending.TryDequeue(out var next))
            {
                var work = new SnapshotChunkWork(Id, spec.ConnectionString, next.Table, next.Index, next.FromPage, next.ToPage,
                    _export?.SnapshotName, plan.ConsistentPoint, plan.StartedAt, next.FileNode, spec.Columns);
                running[GrainFactory.GetGrain<ISnapshotChunkGrain>($"{Id}|{next.Table}|{next.Index}").ReadAsync(work)] = next;
            }
            var finished = await Task.WhenAny(running.Keys).WaitAsync(ct);
            var chunk = running[finished];
            running.Remove(finished);
            try
            {
                chunk.Rows = await finished;
                chunk.Done = true;
                await _writes.WriteAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                SnapshotLog.ChunkFailed(_logger, Id, chunk.Index, e);
                _lastError = $"snapshot chunk {chunk.Index} of {chunk.Table} failed, retrying: {e.Message}";
                pending.Enqueue(chunk);
                await Task.Delay(500, ct);
            }
        }
        plan.CompletedAt = DateTimeOffset.UtcNow;
        // Everything committed before the consistent point is in the durable snapshot.
        _state.State.ConfirmedLsn = Math.Max(_state.State.ConfirmedLsn, plan.ConsistentPoint);
        await _writes.WriteAsync();
        if (_export is not null)
        {
            await _export.DisposeAsync();
            _export = null;
        }
        var rows = plan.Chunks.Sum(c => c.Rows);
        SnapshotLog.Completed(_logger, Id, rows, (plan.CompletedAt.Value - plan.StartedAt).TotalSeconds, Position.FormatLsn(plan.ConsistentPoint));
    }

    private IReadOnlyList<TableSnapshotInfo> SnapshotProgress()
    {
        var plan = _state.State.Snapshot;
        var seconds = plan is null || plan.StartedAt == default ? 0 : Math.Max(0.001, ((plan.CompletedAt ?? DateTimeOffset.UtcNow) - plan.StartedAt).TotalSeconds);
        return (plan?.Chunks ?? []).Concat(_state.State.Incremental).GroupBy(c => c.Table).Select(g =>
        {
            var rows = g.Sum(c => c.Rows);
            return new TableSnapshotInfo(g.Key, g.Count(c => c.Done), g.Count(), rows, seconds == 0 ? 0 : rows / seconds);
        }).ToArray();
    }

    private async Task PumpAsync(PostgresCapture capture, CancellationToken ct)
    {
        var reader = capture.Items;
        void Add(CapturedChange change)
        {
            _batcher.Add(change.Partition, change.Schema, change.Event);
            _state.State.ChangesCaptured++;
        }
        while (await reader.WaitToReadAsync(ct))
        {
            while (_tracker.InFlightEvents >= _options.MaxPendingChanges)
            {
                await Task.Delay(20, ct);
            }
            for (var n = 0; n < 20_000 && reader.TryRead(out var item); n++)
            {
                switch (item)
                {
                    case CapturedChange change:
                        _window?.Observe(change);
                        Add(change);
                        break;
                    case CapturedWatermark { Window: var id } watermark when _window?.Id == id:
                        if (!watermark.High)
                        {
                            _window.Opened();
                            break;
                        }
                        await _windowRead;
                        EmitChunk(_window, watermark.Lsn, Add);
                        _window = null;
                        break;
                    case CapturedCommit commit:
                        _lastCommitTime = commit.Heartbeat ? _lastCommitTime : commit.CommitTime;
                        if (_tracker.Committed(commit.EndLsn, commit.CommitTime))
                        {
                            Confirm();
                        }
                        break;
                }
            }
            await _batcher.PublishAsync();
            StartIncrementalChunkIfIdle();
        }
        // The reader completed without error: the server ended the stream. Capture again from the checkpoint.
        throw new InvalidOperationException("replication stream ended");
    }

    /// <summary>Starts the next incremental snapshot chunk when streaming and no chunk is between its watermarks.</summary>
    private void StartIncrementalChunkIfIdle()
    {
        if (_window is not null || _state.State.State != SourceState.Running || _policy is not { } policy || _state.State.Spec is not { } spec)
        {
            return;
        }
        var chunk = _state.State.Incremental.FirstOrDefault(c => !c.Done && !_chunksAwaitingDurability.Exists(a => a.Chunk == c));
        if (chunk is null)
        {
            return;
        }
        var window = new WatermarkWindow(chunk.Index, chunk.Table);
        _window = window;
        _windowRead = ReadChunkAsync();

        async Task ReadChunkAsync()
        {
            try
            {
                var (schema, rows) = await PostgresSourceAdmin.ReadWatermarkedChunkAsync(spec.ConnectionString, chunk.Table, window.Id, chunk.FromPage, chunk.ToPage, default);
                var projection = policy.For(schema);
                window.Schema = projection.Schema;
                window.Rows = rows.Select(r => projection.Row(r)!).ToList();
            }
            catch (Exception e) when (e is NpgsqlException or SourceValidationException or InvalidOperationException)
            {
                // The watermarks may be in the log without rows; the window is dropped and the chunk read again.
                SnapshotLog.ChunkFailed(_logger, Id, chunk.Index, e);
                if (_window == window)
                {
                    _window = null;
                }
            }
        }
    }

    /// <summary>At the high watermark: the chunk's rows the log did not touch meanwhile go out at the watermark's position.</summary>
    private void EmitChunk(WatermarkWindow window, ulong lsn, Action<CapturedChange> add)
    {
        if (window.Rows is null || _state.State.Spec is not { } spec)
        {
            return;
        }
        var chunk = _state.State.Incremental.First(c => c.Index == window.Chunk);
        var addresses = Enumerable.Range(0, spec.Partitions).Select(p => new PartitionAddress(Id, window.Table, p)).ToArray();
        uint sequence = 0;
        foreach (var row in window.Closed())
        {
            var partition = KeyPartitioner.PartitionOf(window.Schema!.KeyOf(row), spec.Partitions);
            add(new CapturedChange(addresses[partition], window.Schema,
                new ChangeEvent(ChangeOperation.Snapshot, new Position(lsn, sequence++), DateTimeOffset.UtcNow, null, row)));
        }
        // Like a transaction: confirmable (and the chunk done) once its rows are durable.
        _chunksAwaitingDurability.Add((lsn, chunk, sequence));
        if (_tracker.Committed(lsn, DateTimeOffset.UtcNow))
        {
            Confirm();
        }
    }

    private void Confirm()
    {
        foreach (var (lsn, chunk, rows) in _chunksAwaitingDurability.Where(a => a.Lsn <= _tracker.Confirmable).ToArray())
        {
            chunk.Done = true;
            chunk.Rows = rows;
            _chunksAwaitingDurability.RemoveAll(a => a.Chunk == chunk);
        }
        // A new activation's tracker starts from nothing and may replay from the slot's (slightly older) position.
        _state.State.ConfirmedLsn = Math.Max(_state.State.ConfirmedLsn, _tracker.Confirmable);
        // Commit timestamps are taken a moment before the commit record is written, so a transaction with an
        // earlier timestamp can land just after a later one; the margin keeps "complete up to" on the safe side.
        var complete = _tracker.ConfirmedCommitTime - CompletenessMargin;
        if (_state.State.CompleteUpTo is null || complete > _state.State.CompleteUpTo)
        {
            _state.State.CompleteUpTo = complete;
        }
        _dirty = true;
        _capture?.Confirm(_tracker.Confirmable);
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
        if (_state.State.Spec is not { } spec)
        {
            return;
        }
        if (_tracker.OldestInFlightAge > _options.ResyncAfter && _loop.IsRunning)
        {
            _lastError = $"changes emitted {_tracker.OldestInFlightAge.TotalSeconds:F0} s ago are still not durable";
            SourceLog.CaptureRestarting(_logger, Id, TimeSpan.Zero, _lastError);
            _loop.Restart();
        }
        StartIncrementalChunkIfIdle();
        // A paused source's slot still holds WAL: its lag, retained WAL and alert keep being read (nothing is written).
        if ((ShouldCapture || _state.State.State == SourceState.Paused) && DateTimeOffset.UtcNow >= _nextHeartbeat)
        {
            // The first one right after activation, so lag and completeness show up at once.
            _nextHeartbeat = DateTimeOffset.UtcNow + _options.HeartbeatInterval;
            await HeartbeatAsync(spec, ct);
        }
        if (_sinceLog.Elapsed >= TimeSpan.FromSeconds(5))
        {
            var rate = (_state.State.ChangesCaptured - _capturedAtLastLog) / _sinceLog.Elapsed.TotalSeconds;
            _capturedAtLastLog = _state.State.ChangesCaptured;
            _sinceLog.Restart();
            if (_state.State.Snapshot is { Completed: false } plan && _state.State.State == SourceState.Snapshotting)
            {
                var progress = SnapshotProgress();
                SnapshotLog.Progress(_logger, Id, plan.Chunks.Count(c => c.Done), plan.Chunks.Count, progress.Sum(p => p.Rows), progress.Sum(p => p.RowsPerSecond));
            }
            else if (ShouldCapture)
            {
                SourceLog.Progress(_logger, Id, rate, Position.FormatLsn(_state.State.ConfirmedLsn), _tracker.PendingEvents);
            }
            if (_dirty)
            {
                _dirty = false;
                await _writes.WriteAsync();
            }
        }
    }

    /// <summary>Writes a heartbeat while streaming, reads lag and retained WAL, raises the WAL alert, fails a lost slot.</summary>
    private async Task HeartbeatAsync(PostgresSourceSpec spec, CancellationToken ct)
    {
        try
        {
            _health = await PostgresSourceAdmin.HeartbeatAsync(spec.ConnectionString, PostgresNames.Slot(spec.Id), emit: _state.State.State == SourceState.Running, ct);
        }
        catch (Exception e) when (e is NpgsqlException or SourceValidationException)
        {
            _health = null;
            return;
        }
        if (_health is null)
        {
            return;
        }
        _alert = _health.RetainedBytes > _options.MaxRetainedWalBytes
            ? $"replication slot {PostgresNames.Slot(spec.Id)} retains {_health.RetainedBytes:N0} bytes of WAL on the source, over the limit of {_options.MaxRetainedWalBytes:N0} (Saiki:Pipeline:MaxRetainedWalBytes); capture is behind or stopped"
            : null;
        if (_alert is not null)
        {
            SourceLog.Alert(_logger, Id, _alert);
        }
        if (_health.WalStatus == "lost")
        {
            Fail($"replication slot {PostgresNames.Slot(spec.Id)} was invalidated by the server (WAL it needed was removed, see max_slot_wal_keep_size); changes are missing. Remove and re-register the source");
            _loop.Restart();
        }
        SaikiMetrics.ReportSource(Id, new SourceGauges(_health.LagBytes, _health.RetainedBytes, LagSeconds()));
        await WriteCompletenessAsync(ct);
    }

    /// <summary>
    /// Publishes "complete up to T" for each table whose snapshot is done, as a small object in the lake, so a
    /// warehouse working from the object store alone knows how far it may read.
    /// </summary>
    private async Task WriteCompletenessAsync(CancellationToken ct)
    {
        if (_state.State.CompleteUpTo is not { } complete || complete == _completenessWritten)
        {
            return;
        }
        var progress = SnapshotProgress();
        foreach (var table in _state.State.Spec!.Tables.Where(t => progress.FirstOrDefault(p => p.Table == t) is not { Completed: false }))
        {
            await new Manifest(_lake, _layout).WriteCompletenessAsync(Id, table, complete, ct);
        }
        _completenessWritten = complete;
    }

    private double LagSeconds() =>
        _tracker.OldestPendingCommitTime is { } oldest ? Math.Max(0, (DateTimeOffset.UtcNow - oldest).TotalSeconds) : 0;

    private SourceInfo Info()
    {
        var s = _state.State;
        var spec = s.Spec!;
        return new SourceInfo(
            Id, "postgres", spec.Tables, spec.Partitions, s.State,
            s.State == SourceState.Failed ? s.Error : _lastError,
            PostgresNames.Slot(Id), PostgresNames.Publication(Id),
            Position.FormatLsn(s.ConfirmedLsn), s.ChangesCaptured,
            s.Partitions.Values.Sum(p => p.Rows), s.Partitions.Values.Sum(p => p.Files),
            _health?.LagBytes, _lastCommitTime, s.RegisteredAt, SnapshotProgress(),
            _health?.RetainedBytes, LagSeconds(), _alert is null ? [] : [_alert],
            s.Snapshot is { Completed: false } ? null : s.CompleteUpTo);
    }
}

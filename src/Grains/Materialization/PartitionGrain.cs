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
using Saiki.Orleans.Capture;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Lake.Iceberg;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Materialization;

/// <summary>
/// Cleanses and materializes one table partition. Batches arrive on the partition's stream; the grain checks
/// their epoch and sequence (a gap means a batch was lost in transit, so it asks the source to replay), drops
/// changes at or below what it has already seen (replays), buffers the rest and writes lake files (in the table's
/// format) when the buffer's estimated size reaches the target file size, when it holds the maximum number of changes,
/// or when its oldest change has waited the flush interval. Only after data file, manifest entry and state are written does it acknowledge
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
    /// <summary>Estimated stored bytes of each buffered change, fixed when it is buffered, so a retried flush cuts
    /// the same files (and so writes the same keys).</summary>
    private readonly List<long> _bufferSizes = new();
    private long _bufferBytes;
    /// <summary>Changes (from the start of the buffer) a failed flush covered: its retry flushes exactly these; 0 when none failed.</summary>
    private int _pinned;
    private readonly FileSizeEstimator _sizes;
    private readonly LakeOptions _lake;
    private LakeFormat _format;
    private readonly Stopwatch _bufferAge = new();
    private PartitionAddress _address = null!;
    private Position _lastSeen;
    private long _epoch;
    private long _nextSequence;
    /// <summary>Last position received in <see cref="_epoch"/> by this activation; null until a batch of it came.</summary>
    private Position? _received;
    private long? _gapEpoch;
    private long _duplicates;
    private string? _lastError;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private int _failures;
    private bool _ackOwed;
    /// <summary>Field ids of each schema version, from the table's committer (Iceberg tables).</summary>
    private readonly Dictionary<string, IcebergColumns> _columns = new(StringComparer.Ordinal);
    /// <summary>Live rows of this partition's keys, for the mirror table (Iceberg tables); built from the files on the first batch.</summary>
    private MirrorIndex? _index;
    /// <summary>The snapshot chunk files the index holds.</summary>
    private HashSet<string> _indexedChunks = new(StringComparer.Ordinal);
    /// <summary>The capture run whose first batch last checked the index against the snapshot chunks.</summary>
    private long? _indexCheckedEpoch;
    /// <summary>How to take back what the current flush did to the index, file by file, should it fail.</summary>
    private readonly List<List<(string Key, (string File, long Row)? Before)>> _undo = [];
    /// <summary>Files found in the manifest on activation (after a crash) that the committer may not have yet; handed over once the index gives their deletes.</summary>
    private readonly List<ManifestEntry> _adopted = [];
    /// <summary>Kind of the source feeding this partition, learnt from its batches (an acknowledgement only follows a batch).</summary>
    private SourceKind _kind;
    /// <summary>Schema versions seen in batches (a compaction writes its file with the version's columns).</summary>
    private readonly Dictionary<string, TableSchema> _schemas = new(StringComparer.Ordinal);
    /// <summary>This partition's own Iceberg files after its newest full-size one, in position order: what compaction may merge.</summary>
    private List<ManifestEntry> _compactable = [];
    /// <summary>The compaction running off the grain's turn (reading and writing files only), applied by a later turn.</summary>
    private Task<Compacted>? _compaction;
    private int _compactingFiles;
    /// <summary>The key of the file the running compaction writes, and the manifest entry key it would take (the newest input's).</summary>
    private (string Key, Position Last) _compactingInto;
    /// <summary>Compacted files whose compaction did not finish: deleted once the manifest is known not to list them.</summary>
    private readonly Dictionary<string, Position> _abandoned = new(StringComparer.Ordinal);

    /// <summary>Created by Orleans.</summary>
    public PartitionGrain(
        [PersistentState("partition", SaikiNames.Storage)] IPersistentState<PartitionGrainState> state,
        ILakeStore store,
        LakeLayout layout,
        KafkaPublisher kafka,
        Serializer serializer,
        IOptions<PipelineOptions> options,
        IOptions<LakeOptions> lake,
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
        _lake = lake.Value;
        _sizes = new FileSizeEstimator(_options.TargetFileBytes);
    }

    /// <summary>Raw bytes buffered before the first file is measured by a trial encoding (or less, with a smaller target).</summary>
    private const long CalibrationBytes = 4L << 20;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _address = PartitionAddress.Parse(this.GetPrimaryKeyString());
        _format = _lake.FormatOf(_address.Table);
        await RecoverFromLakeAsync(cancellationToken);
        _lastSeen = _state.State.Durable;
        _epoch = _state.State.Epoch;
        _nextSequence = _state.State.NextSequence;
        // Often enough that no change waits much past the flush interval, whatever its length.
        var tick = TimeSpan.FromTicks(Math.Clamp(_options.FlushInterval.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(tick, tick));
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await TryFlushAsync();
        if (_compaction is not null)
        {
            await ApplyCompactionAsync();
        }
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
        _schemas.TryAdd(batch.Schema.Version, batch.Schema);
        if (_format == LakeFormat.Iceberg && _indexCheckedEpoch != batch.Epoch)
        {
            // Snapshot chunks are all durable before a run streams, so checking once per run is enough.
            await EnsureIndexAsync();
            _indexCheckedEpoch = batch.Epoch;
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
            var size = _sizes.Estimate(change);
            _bufferSizes.Add(size);
            _bufferBytes += size;
            _lastSeen = change.Position;
            added++;
            if (await IsFullAsync())
            {
                await TryFlushAsync();
            }
        }
        if (added == 0 && _buffer.Count == 0)
        {
            // Nothing new and nothing waiting: tell the source the replayed changes are already durable.
            await AcknowledgeAsync();
        }
    }

    /// <summary>
    /// True when the buffer makes a file of the target size or holds the most changes allowed (and no retry
    /// back-off is running). Before any file was measured, the first time the buffer could make one it is encoded
    /// once to learn the format's compression on this data, and the buffer's estimates are redone with it.
    /// </summary>
    private async Task<bool> IsFullAsync()
    {
        if (!_sizes.Calibrated && _bufferBytes >= Math.Min(_options.TargetFileBytes, CalibrationBytes))
        {
            var version = _buffer[^1].Schema.Version;
            var start = _buffer.FindLastIndex(b => b.Schema.Version != version) + 1;
            var sample = _buffer.GetRange(start, _buffer.Count - start);
            _sizes.Observe(FileSizeEstimator.RawSize(sample), (await EncodeAsync(sample)).Content.Length);
            // A failed flush has cut files already: its retry must cut the same ones, so its estimates stay.
            if (_failures == 0)
            {
                _bufferBytes = 0;
                for (var i = 0; i < _buffer.Count; i++)
                {
                    _bufferSizes[i] = _sizes.Estimate(_buffer[i].Event);
                    _bufferBytes += _bufferSizes[i];
                }
            }
        }
        return (_bufferBytes >= _options.TargetFileBytes || _buffer.Count >= _options.MaxBufferedChanges) && DateTimeOffset.UtcNow >= _retryAt;
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
        _kind = batch.Kind;
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
            var source = SourceGrains.Get(GrainFactory, _kind, _address.SourceId);
            source.ResynchronizeAsync(batch.Epoch, $"partition {_address} missed batches {expected}..{batch.Sequence - 1} of epoch {batch.Epoch}")
                .Ignore();
            return false;
        }
        if (batch.Epoch != _epoch)
        {
            _received = null;
        }
        _epoch = batch.Epoch;
        _nextSequence = batch.Sequence + 1;
        _received = _received is { } received && received > batch.LastPosition ? received : batch.LastPosition;
        return true;
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (_compaction is { IsCompleted: true })
        {
            await ApplyCompactionAsync();
        }
        if (_abandoned.Count > 0 && _retryAt <= DateTimeOffset.UtcNow)
        {
            await DeleteAbandonedAsync();
        }
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
    /// Writes the buffer as files of runs of changes with the same schema version (so no file mixes versions), each
    /// closed once its estimated size reaches the target, each followed by its manifest entry; then the state, then
    /// the acknowledgement. A failure keeps the buffer and its estimates: the retry cuts the same runs and so writes
    /// the same keys.
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
            if (_format == LakeFormat.Iceberg && _index is null)
            {
                await EnsureIndexAsync();
            }
            ManifestEntry? last = null;
            var bytes = 0L;
            var files = 0;
            var iceberg = new List<IcebergFile>();
            var written = new List<ManifestEntry>();
            _undo.Clear();
            // A retry flushes exactly the changes the failed attempt did, cut the same way, so it writes the same
            // files under the same keys (the failed attempt's hand-over may have reached the committer); changes
            // buffered since wait for the next flush.
            var count = _pinned > 0 ? _pinned : _buffer.Count;
            for (var start = 0; start < count;)
            {
                var version = _buffer[start].Schema.Version;
                var end = start;
                for (var size = 0L; end < count && _buffer[end].Schema.Version == version && size < _options.TargetFileBytes; end++)
                {
                    size += _bufferSizes[end];
                }
                last = await WriteFileAsync(_buffer.GetRange(start, end - start), iceberg);
                written.Add(last);
                bytes += last.Bytes;
                files++;
                start = end;
            }

            if (iceberg.Count > 0)
            {
                // Durable once the committer holds them: the source may confirm them before their snapshot commits.
                await Committer.HandOverAsync(iceberg);
            }
            var s = _state.State;
            s.Durable = last!.Last;
            s.Epoch = _epoch;
            s.NextSequence = _nextSequence;
            s.RowsWritten += count;
            s.FilesWritten += files;
            s.LastFlush = last.WrittenAt;
            s.LastCommitTime = last.MaxCommitTime;
            await _state.WriteStateAsync();

            var flushed = _buffer.GetRange(0, count);
            await RouteToProcessesAsync(flushed);
            SaikiMetrics.RowsWritten.Add(count);
            SaikiMetrics.BytesWritten.Add(bytes);
            SaikiMetrics.FlushSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _buffer.RemoveRange(0, count);
            _bufferBytes -= _bufferSizes.Take(count).Sum();
            _bufferSizes.RemoveRange(0, count);
            _pinned = 0;
            if (_buffer.Count > 0)
            {
                _bufferAge.Restart();
            }
            _lastError = null;
            _failures = 0;
            if (iceberg.Count > 0)
            {
                written.ForEach(Compactable);
                await StartCompactionAsync();
            }
        }
        catch (Exception e)
        {
            // The index goes back to before the flush: the retry writes the same files and finds the same deletes.
            for (var i = _undo.Count - 1; i >= 0; i--)
            {
                _index!.Undo(_undo[i]);
            }
            _undo.Clear();
            // Keep everything buffered: the checkpoint does not move, and the next attempt writes the same keys.
            _pinned = _pinned > 0 ? _pinned : _buffer.Count;
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
    private async Task RouteToProcessesAsync(List<(TableSchema Schema, ChangeEvent Event)> flushed)
    {
        try
        {
            var streams = this.GetStreamProvider(SaikiNames.StreamProvider);
            foreach (var (key, events) in _processes.Route(_address, flushed))
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
            ProcessLog.RoutingFailed(_logger, _address.ToString(), flushed.Count, e);
        }
    }

    private async Task<ManifestEntry> WriteFileAsync(List<(TableSchema Schema, ChangeEvent Event)> run, List<IcebergFile> iceberg)
    {
        var first = run[0].Event;
        var last = run[^1].Event;
        var key = _layout.DataKey(_address, first.Position, last.Position, first.CommitTime, _format);
        var (content, metrics) = await EncodeAsync(run);
        _sizes.Observe(FileSizeEstimator.RawSize(run), content.Length);
        await _store.PutAsync(key, content);
        // Kafka before the manifest entry: an entry means "in the lake and on the bus", which recovery relies on.
        await DeadLetters.WriteAsync(_store, _layout, await _kafka.PublishAsync(_address, run));
        await _manifest.AddSchemaAsync(_address.SourceId, run[0].Schema);
        var entry = new ManifestEntry(key, _address.SourceId, _address.Table, _address.Partition, run.Count, content.Length,
            first.Position, last.Position, run.Min(b => b.Event.CommitTime), run.Max(b => b.Event.CommitTime), DateTimeOffset.UtcNow,
            run[0].Schema.Version, _format);
        await _manifest.AddAsync(_address, entry);
        if (metrics is not null)
        {
            var dead = new List<RowRef>();
            _undo.Add(_index!.Apply(key, ChangelogFile.Keys(run), _ => true, dead));
            iceberg.Add(metrics.FileOf(entry) with { Deletes = dead });
        }
        SaikiMetrics.FilesWritten.Add(1);
        LakeLog.Flushed(_logger, _address.ToString(), run.Count, key);
        return entry;
    }

    /// <summary>Encodes a run of one schema version in the table's format; Iceberg files also give their column metrics.</summary>
    private async Task<(byte[] Content, IcebergFileMetrics? Metrics)> EncodeAsync(List<(TableSchema Schema, ChangeEvent Event)> run)
    {
        if (_format != LakeFormat.Iceberg)
        {
            return (await ChangeFile.WriteAsync(_format, _address, run), null);
        }
        var schema = run[0].Schema;
        if (!_columns.TryGetValue(schema.Version, out var columns))
        {
            _columns[schema.Version] = columns = await Committer.ColumnsAsync(schema, run[0].Event.Position);
        }
        return await ChangelogFile.WriteAsync(columns, run);
    }

    /// <summary>
    /// Builds the mirror index from the table's files, in position order: the snapshot chunks (this partition's keys
    /// of them) and this partition's own files. Deletes found among snapshot rows (a row read by two chunks) are
    /// handed to the committer once per chunk and partition; files adopted after a crash are handed over with the
    /// deletes they cause. Runs on the first batch of each capture run: again when snapshot chunks appeared since (a re-snapshot).
    /// </summary>
    private async Task EnsureIndexAsync()
    {
        var chunks = new List<ManifestEntry>();
        await foreach (var chunk in _manifest.ListSnapshotChunksAsync(_address.SourceId, _address.Table))
        {
            chunks.Add(chunk);
        }
        if (_index is not null && chunks.All(c => _indexedChunks.Contains(c.Key)))
        {
            return;
        }
        var partitions = (await SourceGrains.Get(GrainFactory, _kind, _address.SourceId).GetAsync())?.Partitions
            ?? throw new InvalidOperationException($"source {_address.SourceId} of partition {_address} is not registered");
        var index = new MirrorIndex();
        var handOver = new List<IcebergFile>();
        var own = new List<ManifestEntry>();
        // Only files up to the durable position: one past it is a flush that failed after writing it, whose retry
        // writes and indexes it again (indexing it here as well would make its rows delete themselves).
        await foreach (var entry in _manifest.ListAsync(_address))
        {
            if (entry.Last <= _state.State.Durable)
            {
                own.Add(entry);
            }
        }
        // Entries a compacted file replaced are left only when its compaction was cut short: finish it.
        var replaced = own.SelectMany(e => e.Replaces).ToHashSet(StringComparer.Ordinal);
        var stale = own.Where(e => replaced.Contains(e.Key)).ToArray();
        own.RemoveAll(e => replaced.Contains(e.Key));
        var interrupted = own.Where(e => e.Replaces.Any(r => stale.Any(x => x.Key == r))).ToArray();
        var files = new List<ManifestEntry>(chunks.Where(c => c.Format == LakeFormat.Iceberg && c.Rows > 0));
        files.AddRange(own);
        var adopted = _adopted.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var file in files.OrderBy(f => f.First).ThenBy(f => f.Partition))
        {
            var content = await _store.GetAsync(file.Key) ?? throw new InvalidOperationException($"lake file {file.Key} is missing");
            var dead = new List<RowRef>();
            index.Apply(file.Key, await ChangelogFile.ReadKeysAsync(content), file.Partition < 0
                ? key => KeyPartitioner.PartitionOf(ChangelogFile.KeyValues(key), partitions) == _address.Partition
                : _ => true, dead);
            if (file.Partition < 0 && dead.Count > 0)
            {
                handOver.Add(IcebergFile.Of(file) with { Key = $"{file.Key}#{_address.Partition}", Partition = -1, Rows = 0, Bytes = 0, Deletes = dead, DeletesOnly = true });
            }
            else if (adopted.Contains(file.Key))
            {
                handOver.Add(IcebergFile.Of(file) with { Deletes = dead });
            }
        }
        // A compacted file's dead rows are the rows no live key points at, whichever later file made them dead.
        handOver.AddRange(interrupted.Select(c => IcebergFile.Of(c) with { Deletes = index.DeadRows(new Dictionary<string, long> { [c.Key] = 0 }, c.Key, c.Rows) }));
        if (handOver.Count > 0)
        {
            await Committer.HandOverAsync(handOver);
        }
        foreach (var entry in stale)
        {
            await _store.DeleteAsync(_layout.ManifestKey(_address, entry.Last));
        }
        _adopted.Clear();
        _index = index;
        _indexedChunks = chunks.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        _compactable = [];
        own.Where(e => e.Format == LakeFormat.Iceberg).ToList().ForEach(Compactable);
    }

    /// <summary>Adds a file of this partition to the compaction candidates; a full-size file ends every run before it.</summary>
    private void Compactable(ManifestEntry file)
    {
        if (file.Bytes >= _options.TargetFileBytes / 2)
        {
            _compactable.Clear();
            return;
        }
        _compactable.Add(file);
    }

    /// <summary>A compacted file written off the grain's turn, and where each input's rows start in it.</summary>
    private sealed record Compacted(ManifestEntry[] Inputs, string Key, long Bytes, IcebergFileMetrics Metrics, Dictionary<string, long> Offsets, TimeSpan Took);

    /// <summary>
    /// Starts compacting when this partition's newest files include <see cref="IcebergLakeOptions.CompactFiles"/> in
    /// a row of the same level and schema version: the oldest of them that fit in the target file size are appended,
    /// column by column, into one file a level higher (a file of half the target or more is full and never merged again).
    /// Only reading and writing the files runs off the grain's turn; ingestion goes on meanwhile, and
    /// <see cref="ApplyCompactionAsync"/> records the result in a turn of its own.
    /// </summary>
    private async Task StartCompactionAsync()
    {
        var need = _lake.Iceberg.CompactFiles;
        if (need == 0 || _compaction is not null || _compactable.Count < need)
        {
            return;
        }
        var newest = _compactable[^1];
        var start = _compactable.Count;
        while (start > 0 && _compactable[start - 1].Level == newest.Level && _compactable[start - 1].SchemaVersion == newest.SchemaVersion)
        {
            start--;
        }
        if (_compactable.Count - start < need)
        {
            return;
        }
        var inputs = new List<ManifestEntry>();
        var bytes = 0L;
        for (var i = start; i < _compactable.Count && (inputs.Count < 2 || bytes + _compactable[i].Bytes <= _options.TargetFileBytes); i++)
        {
            inputs.Add(_compactable[i]);
            bytes += _compactable[i].Bytes;
        }
        var schema = await SchemaAsync(newest.SchemaVersion);
        if (!_columns.TryGetValue(schema.Version, out var columns))
        {
            _columns[schema.Version] = columns = await Committer.ColumnsAsync(schema, inputs[0].First);
        }
        var key = _layout.DataKey(_address, inputs[0].First, inputs[^1].Last, inputs[0].MinCommitTime, LakeFormat.Iceberg);
        var store = _store;
        var files = inputs.ToArray();
        _compactingFiles = files.Length;
        _compactingInto = (key, files[^1].Last);
        _compaction = Task.Run(() => RewriteAsync(store, files, columns, schema, key));
    }

    /// <summary>
    /// Rewrites of all partitions of a silo take turns, one per four cores (at least one), so compaction holds a
    /// bounded share of the silo's CPU and capture keeps the rest.
    /// </summary>
    private static readonly SemaphoreSlim Rewrites = new(Math.Max(1, Environment.ProcessorCount / 4));

    private static async Task<Compacted> RewriteAsync(ILakeStore store, ManifestEntry[] inputs, IcebergColumns columns, TableSchema schema, string key)
    {
        await Rewrites.WaitAsync();
        try
        {
            return await RewriteFilesAsync(store, inputs, columns, schema, key);
        }
        finally
        {
            Rewrites.Release();
        }
    }

    private static async Task<Compacted> RewriteFilesAsync(ILakeStore store, ManifestEntry[] inputs, IcebergColumns columns, TableSchema schema, string key)
    {
        var started = Stopwatch.GetTimestamp();
        await using var writer = new ChangelogFile.Writer(columns, schema);
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            offsets[input.Key] = writer.Count;
            await writer.AppendAsync(await store.GetAsync(input.Key) ?? throw new InvalidOperationException($"lake file {input.Key} is missing"));
            if (writer.Count - offsets[input.Key] != input.Rows)
            {
                throw new InvalidDataException($"lake file {input.Key} holds {writer.Count - offsets[input.Key]} rows; its manifest entry says {input.Rows}");
            }
        }
        var (content, metrics) = await writer.FinishAsync();
        await store.PutAsync(key, content);
        return new Compacted(inputs, key, content.Length, metrics, offsets, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Records a finished compaction: the compacted file's manifest entry (it takes the newest input's key, so the
    /// manifest never lists fewer rows than before), then its hand-over with its dead rows (which the committer
    /// commits as one snapshot that replaces the inputs in both tables), then the index moves to it and the other
    /// inputs' entries go. Should the hand-over fail, the index is rebuilt from the manifest before the next flush,
    /// and the rebuild hands the compacted file over again.
    /// </summary>
    private async Task ApplyCompactionAsync()
    {
        var task = _compaction!;
        _compaction = null;
        Compacted done;
        try
        {
            done = await task;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Its write may have reached the store before failing.
            _abandoned[_compactingInto.Key] = _compactingInto.Last;
            SaikiMetrics.FlushErrors.Add(1);
            LakeLog.CompactionFailed(_logger, _address.ToString(), _compactingFiles, e);
            return;
        }
        var inputs = done.Inputs;
        if (_index is null || !inputs.All(i => _compactable.Any(c => c.Key == i.Key)))
        {
            // The index was rebuilt meanwhile; the next compaction starts from what it found.
            _abandoned[done.Key] = inputs[^1].Last;
            return;
        }
        var entry = new ManifestEntry(done.Key, _address.SourceId, _address.Table, _address.Partition, checked((int)done.Metrics.Rows), done.Bytes,
            inputs[0].First, inputs[^1].Last, inputs.Min(i => i.MinCommitTime), inputs.Max(i => i.MaxCommitTime), DateTimeOffset.UtcNow,
            inputs[0].SchemaVersion, LakeFormat.Iceberg)
        {
            Level = inputs.Max(i => i.Level) + 1,
            Replaces = inputs.Select(i => i.Key).ToArray(),
        };
        try
        {
            await _manifest.AddAsync(_address, entry);
            await Committer.HandOverAsync([done.Metrics.FileOf(entry) with { Deletes = _index.DeadRows(done.Offsets, done.Key, done.Metrics.Rows) }]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whether the manifest entry was written is unknown: the rebuild finishes the compaction if it was.
            _index = null;
            _abandoned[done.Key] = inputs[^1].Last;
            SaikiMetrics.FlushErrors.Add(1);
            LakeLog.CompactionFailed(_logger, _address.ToString(), inputs.Length, e);
            return;
        }
        _index.Move(done.Offsets, done.Key);
        var at = _compactable.FindIndex(c => c.Key == inputs[0].Key);
        _compactable.RemoveAll(c => done.Offsets.ContainsKey(c.Key));
        var after = _compactable.Skip(at).ToArray();
        _compactable.RemoveRange(at, _compactable.Count - at);
        Compactable(entry);
        foreach (var file in after)
        {
            Compactable(file);
        }
        foreach (var input in inputs[..^1])
        {
            try
            {
                await _store.DeleteAsync(_layout.ManifestKey(_address, input.Last));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Left for the next index rebuild, which skips and removes entries a compacted file replaced.
                LakeLog.CompactionFailed(_logger, _address.ToString(), inputs.Length, e);
            }
        }
        SaikiMetrics.FilesCompacted.Add(inputs.Length);
        LakeLog.Compacted(_logger, _address.ToString(), inputs.Length, done.Metrics.Rows, entry.Level, done.Key, done.Took.TotalMilliseconds);
        await StartCompactionAsync();
    }

    /// <summary>
    /// Deletes the files of compactions that did not finish, unless the manifest lists one (its entry was written
    /// before the failure: the index rebuild, run here, finishes that compaction). Runs on the partition's tick; a file
    /// that cannot be deleted now is tried at a later one.
    /// </summary>
    private async Task DeleteAbandonedAsync()
    {
        foreach (var (key, last) in _abandoned.ToArray())
        {
            try
            {
                if ((await _manifest.GetAsync(_address, last))?.Key != key)
                {
                    await _store.DeleteAsync(key);
                }
                else if (_index is null)
                {
                    // Listed, so the compaction only missed its hand-over: the rebuild makes it now, not at the next flush.
                    await EnsureIndexAsync();
                }
                _abandoned.Remove(key);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LakeLog.CompactionFailed(_logger, _address.ToString(), 0, e);
                return;
            }
        }
    }

    /// <summary>A schema version of this partition's table, from its batches or the lake's schema records.</summary>
    private async Task<TableSchema> SchemaAsync(string version)
    {
        if (!_schemas.TryGetValue(version, out var schema))
        {
            await foreach (var known in _manifest.ListSchemasAsync(_address.SourceId, _address.Table))
            {
                _schemas.TryAdd(known.Version, known);
            }
        }
        return _schemas.TryGetValue(version, out schema) ? schema : throw new InvalidOperationException($"schema version {version} of {_address.Table} is not in the lake");
    }

    private ILakeTableGrain Committer => GrainFactory.GetGrain<ILakeTableGrain>($"{_address.SourceId}|{_address.Table}");

    /// <summary>
    /// Tells the source how far what it sent in the current run is durable: the lake's position, but never past the
    /// newest change received in this run (after a restart the lake may be ahead of the replay), since a source
    /// refuses an acknowledgement of anything it did not emit.
    /// </summary>
    private async Task AcknowledgeAsync()
    {
        if (_received is not { } received)
        {
            return; // nothing of the current run came to this activation yet
        }
        try
        {
            var s = _state.State;
            var durable = s.Durable < received ? s.Durable : received;
            await SourceGrains.Get(GrainFactory, _kind, _address.SourceId)
                .AcknowledgeAsync(new PartitionAck(_address, durable, s.RowsWritten, s.FilesWritten, _epoch));
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
            if (entry.Format == LakeFormat.Iceberg)
            {
                _adopted.Add(entry);
            }
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
        // Files are filed by the hour of their first commit time, which is not before the last durable one's (an
        // hour of margin for commit timestamps taken out of order by concurrent transactions).
        var from = (s.LastCommitTime ?? DateTimeOffset.UtcNow.AddDays(-2)).AddHours(-1);
        foreach (var prefix in _layout.DataPrefixes(_address, from, DateTimeOffset.UtcNow.AddHours(1)))
        {
            await foreach (var key in _store.ListAsync(prefix, null, ct))
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

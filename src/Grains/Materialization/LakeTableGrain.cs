using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Lake.Iceberg;

namespace Saiki.Orleans.Materialization;

/// <summary>
/// The committer of one lake table's two Iceberg tables: the changelog (every change) and the mirror (the current
/// state, merge-on-read: the same data files, with position deletes of every row that is not live; the partitions
/// find those from their per-key index, see <see cref="MirrorIndex"/>). Partitions write data files and hand them over; the
/// committer saves them in its state (from then on they are durable: the source may confirm them), and commits
/// what waits when the oldest has waited <see cref="IcebergLakeOptions.CommitInterval"/> or enough
/// rows wait, one snapshot per run of appends or of compacted files (a <c>replace</c>), in hand-over order. Hand-overs
/// interleave with a commit, so a partition never waits for one. A commit writes a manifest, a manifest list and a new metadata file under a new name
/// (<c>metadata/v{N}.metadata.json</c>), then <c>metadata/version-hint.text</c>, then its state: a reader with only the
/// object store finds the table, and a committer that died after the metadata was written finds that version on
/// activation and adopts it, so a file is committed exactly once. Each snapshot's summary records the position range
/// it adds and every partition's high-water position; a file at or below its partition's high water is already in
/// the table and is not added again.
/// An event table (a key whose source part starts with <c>_</c>: <c>_events|{type}</c>, <c>_kafka/{source}|events</c>;
/// no capture source id does) is the changelog alone: append-only, no mirror.
/// </summary>
public sealed class LakeTableGrain(
    [PersistentState("lake-table", SaikiNames.Storage)] IPersistentState<LakeTableState> state,
    ILakeStore store,
    LakeLayout layout,
    IOptions<LakeOptions> lake,
    ILogger<LakeTableGrain> logger) : Grain, ILakeTableGrain
{
    private const string HighWaterKey = "saiki.high-water";
    private const string ChunksKey = "saiki.chunks";
    private const string RewritesKey = "saiki.rewrites";
    /// <summary>Compacted files remembered as committed: a partition hands one over again only right after a crash.</summary>
    private const int RewritesKept = 10_000;
    private readonly IcebergLakeOptions _options = lake.Value.Iceberg;
    private readonly List<string> _alerts = [];
    private readonly Stopwatch _oldestPending = new();
    private readonly SemaphoreSlim _writes = new(1, 1);
    private bool _commitRequested;
    /// <summary>A commit failed since the last sweep: what it wrote may be left over.</summary>
    private bool _sweep;
    private string? _lastError;
    private const string Changelog = "changelog";
    private const string Mirror = "mirror";
    private IcebergTableMetadata? _changelog;
    private IcebergTableMetadata? _mirror;
    private List<IcebergManifestFile> _dataManifests = [];
    private List<IcebergManifestFile> _deleteManifests = [];
    private string _source = "";
    private string _table = "";
    /// <summary>False for an event table: append-only, no mirror.</summary>
    private bool _mirrored = true;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        (_source, _table) = (key[..bar], key[(bar + 1)..]);
        _mirrored = !_source.StartsWith('_');
        await AdoptCommittedVersionsAsync(cancellationToken);
        if (state.State.Pending.Count > 0)
        {
            _oldestPending.Start();
        }
        var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, _options.CommitInterval.Ticks / 4));
        this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(tick, tick) { KeepAlive = true });
    }

    /// <inheritdoc />
    public async Task<IcebergColumns> ColumnsAsync(TableSchema schema, Position firstSeen)
    {
        var alerts = new List<string>();
        var known = state.State.Book.Versions.TryGetValue(schema.Version, out var before) ? before : null;
        var columns = state.State.Book.For(schema, firstSeen, alerts);
        foreach (var alert in alerts)
        {
            _alerts.Add(alert);
            LakeLog.IcebergSchemaAlert(logger, Address, alert);
        }
        if (known != state.State.Book.Versions[schema.Version] || alerts.Count > 0)
        {
            await SaveAsync();
        }
        return columns;
    }

    /// <inheritdoc />
    public async Task HandOverAsync(IReadOnlyList<IcebergFile> files)
    {
        // Interleaves with a commit (see the interface): it only appends to the pending list, which a commit takes a
        // prefix of, and the state writes go one at a time.
        var s = state.State;
        var added = false;
        foreach (var file in files)
        {
            if (s.Pending.Any(p => p.Key == file.Key) || IsCommitted(file))
            {
                continue;
            }
            s.Pending.Add(file);
            added = true;
        }
        if (!added)
        {
            return;
        }
        await SaveAsync();
        if (!_oldestPending.IsRunning)
        {
            _oldestPending.Restart();
        }
        if (!_commitRequested && s.Pending.Sum(f => f.Rows) >= _options.CommitRows)
        {
            // A turn of its own: the hand-over answers now, and commits never overlap.
            _commitRequested = true;
            this.AsReference<ILakeTableGrain>().CommitAsync().Ignore();
        }
    }

    /// <inheritdoc />
    public Task<Position?> HeldAsync(int partition)
    {
        var s = state.State;
        Position? held = s.HighWater.TryGetValue(partition, out var hw) ? hw : null;
        foreach (var file in s.Pending.Where(f => f.Partition == partition && (held is null || f.Last > held.Value)))
        {
            held = file.Last;
        }
        return Task.FromResult(held);
    }

    /// <summary>Saves the state, one write at a time (hand-overs interleave with commits).</summary>
    private async Task SaveAsync()
    {
        await _writes.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <inheritdoc />
    public async Task CommitAsync()
    {
        _commitRequested = false;
        // In hand-over order, one snapshot per run of the same kind: appends (new data and its deletes), or
        // compacted files, committed as replace snapshots of their own.
        for (var count = state.State.Pending.Count; count > 0;)
        {
            var rewrite = IsRewrite(state.State.Pending[0]);
            var run = 1;
            while (run < count && IsRewrite(state.State.Pending[run]) == rewrite)
            {
                run++;
            }
            try
            {
                await CommitRunAsync(run);
            }
            catch (Exception e)
            {
                // The attempt may have written manifests, a manifest list or a delete file before it failed.
                _sweep = true;
                _lastError = e.Message;
                throw;
            }
            count -= run;
        }
        _lastError = null;
        if (_sweep)
        {
            await SweepAsync();
        }
    }

    /// <summary>
    /// Deletes the files a failed commit (or one cut short by a crash) left in the tables' metadata folders and
    /// among the mirror's delete files: every file there that no kept snapshot, manifest or metadata log refers to.
    /// Runs after the next successful commit and when the committer activates (after pointing both hints at the
    /// versions it holds, so no hint names a version a failed commit wrote).
    /// </summary>
    private async Task SweepAsync(CancellationToken ct = default)
    {
        try
        {
            await SweepFilesAsync(ct);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Left over files are only clutter: the next commit tries again.
            _sweep = true;
            LakeLog.IcebergSweepFailed(logger, Address, e);
        }
    }

    private async Task SweepFilesAsync(CancellationToken ct)
    {
        var s = state.State;
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var swept = 0;
        foreach (var (kind, metadata, version) in new[] { (Changelog, _changelog, s.Version), (Mirror, _mirror, s.MirrorVersion) })
        {
            if (metadata is null)
            {
                continue;
            }
            referenced.Add(MetadataKey(kind, MetadataName(version)));
            referenced.Add(MetadataKey(kind, "version-hint.text"));
            referenced.UnionWith(metadata.MetadataLog.Select(l => KeyOf(l.MetadataFile)));
            foreach (var snapshot in metadata.Snapshots)
            {
                referenced.Add(KeyOf(snapshot.ManifestList));
                foreach (var manifest in IcebergManifests.ReadManifestList(await GetAsync(snapshot.ManifestList)))
                {
                    // Delete files are the committer's own; data files are the partitions' (and their sweeps').
                    if (referenced.Add(KeyOf(manifest.Path)) && manifest.Content == IcebergManifestFile.DeletesContent)
                    {
                        referenced.UnionWith(IcebergManifests.ReadManifest(await GetAsync(manifest.Path), manifest).Select(e => KeyOf(e.File.FilePath)));
                    }
                }
            }
        }
        foreach (var prefix in new[] { MetadataKey(Changelog, ""), MetadataKey(Mirror, ""), layout.Key($"{TablePath(Mirror)}/data/") })
        {
            var orphans = new List<string>();
            await foreach (var key in store.ListAsync(prefix, null, ct))
            {
                if (!referenced.Contains(key))
                {
                    orphans.Add(key);
                }
            }
            foreach (var key in orphans)
            {
                await store.DeleteAsync(key, ct);
                swept++;
            }
        }
        _sweep = false;
        if (swept > 0)
        {
            SaikiMetrics.IcebergFilesPurged.Add(swept);
            LakeLog.IcebergSwept(logger, Address, swept);
        }
    }

    private static bool IsRewrite(IcebergFile file) => file.Replaces.Count > 0;

    /// <summary>Commits the first <paramref name="count"/> pending files as one snapshot of both tables.</summary>
    private async Task CommitRunAsync(int count)
    {
        var s = state.State;
        var started = Stopwatch.GetTimestamp();
        var pending = s.Pending.Take(count).ToArray();
        var data = pending.Where(f => !f.DeletesOnly).ToArray();
        // Compacted files replace the files they hold in both tables; one replaced while still waiting is never added.
        var replacedKeys = data.SelectMany(f => f.Replaces).ToHashSet(StringComparer.Ordinal);
        var added = data.Where(f => !replacedKeys.Contains(f.Key)).ToArray();
        var removed = replacedKeys.Select(store.Location).ToHashSet(StringComparer.Ordinal);
        var rewrites = data.Where(f => f.Replaces.Count > 0).Select(f => f.Key).ToArray();
        var book = s.Book;
        var current = book.Versions[book.Current!].SchemaId;
        var changelogSchemas = book.Versions.Values.OrderBy(v => v.SchemaId).Select(v => ToSchema(v, IcebergSchemaBook.FieldsOf(v))).ToArray();
        var mirrorSchemas = book.Versions.Values.OrderBy(v => v.SchemaId).Select(v => ToSchema(v, IcebergSchemaBook.FieldsOf(v).Where(f => f.Id >= ChangelogFile.FirstTableFieldId))).ToArray();
        var changelog = Prepare(_changelog, s.TableUuid, Changelog, changelogSchemas, current, book.LastColumnId);
        var mirror = _mirrored ? Prepare(_mirror, s.MirrorUuid, Mirror, mirrorSchemas, current, book.LastColumnId) : null;
        // Both tables take the same snapshot id and sequence number, so they can share the data manifests.
        var sequence = Math.Max(changelog.LastSequenceNumber, mirror?.LastSequenceNumber ?? 0) + 1;
        var snapshotId = IcebergSnapshot.NewId();
        // Files the new snapshot no longer lists; older snapshots still do, so they go once those expire.
        // A compacted file compacted again before it was committed is listed by no snapshot: it goes at once.
        var neverListed = data.Select(f => f.Key).Where(replacedKeys.Contains).ToHashSet(StringComparer.Ordinal);
        var retired = replacedKeys.Where(k => !neverListed.Contains(k)).ToList();

        var dataEntries = added.Select(f => new IcebergManifestEntry(IcebergManifestEntry.Added, snapshotId, sequence, sequence, new IcebergDataFile(
            IcebergDataFile.DataContent, store.Location(f.Key), IcebergDataFile.Parquet, f.Rows, f.Bytes,
            f.ColumnSizes.Count > 0 ? f.ColumnSizes : null, f.ValueCounts.Count > 0 ? f.ValueCounts : null, f.NullCounts.Count > 0 ? f.NullCounts : null,
            LowerBounds: f.LowerBounds.Count > 0 ? f.LowerBounds : null, UpperBounds: f.UpperBounds.Count > 0 ? f.UpperBounds : null))).ToArray();
        var dataManifests = await WithEntriesAsync(Changelog, _dataManifests, dataEntries, changelogSchemas[current], IcebergManifestFile.DataContent, snapshotId, sequence, removed, retired);

        var deleteManifests = new List<IcebergManifestFile>(_deleteManifests);
        // Deletes of a file replaced in this commit are moot: the compacted file's own deletes cover its dead rows.
        var deletes = pending.SelectMany(f => f.Deletes).Select(d => (Path: store.Location(d.File), d.Row)).Where(d => !removed.Contains(d.Path)).ToList();
        if (deleteManifests.Count > 0 && deleteManifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles) + (deletes.Count > 0 ? 1 : 0) > _options.MaxDeleteFiles)
        {
            // Every live delete into one file, without the deletes of files no longer in the table.
            var live = await LivePathsAsync(dataManifests);
            foreach (var m in deleteManifests)
            {
                foreach (var entry in IcebergManifests.ReadManifest(await GetAsync(m.Path), m).Where(e => e.IsLive))
                {
                    deletes.AddRange((await PositionDeleteFile.ReadAsync(await GetAsync(entry.File.FilePath))).Where(d => live.Contains(d.Path)));
                    retired.Add(KeyOf(entry.File.FilePath));
                }
                retired.Add(KeyOf(m.Path));
            }
            deleteManifests = [];
        }
        var sortedDeletes = deletes.Distinct().OrderBy(d => d.Path, StringComparer.Ordinal).ThenBy(d => d.Row).ToArray();
        IcebergManifestEntry[] deleteEntries = [];
        if (sortedDeletes.Length > 0)
        {
            var deleteKey = layout.Key($"{_source}/{_table}/{Mirror}/data/deletes-{snapshotId:x}.parquet");
            var content = await PositionDeleteFile.WriteAsync(sortedDeletes);
            await store.PutAsync(deleteKey, content);
            deleteEntries = [new IcebergManifestEntry(IcebergManifestEntry.Added, snapshotId, sequence, sequence, new IcebergDataFile(
                IcebergDataFile.PositionDeletesContent, store.Location(deleteKey), IcebergDataFile.Parquet, sortedDeletes.Length, content.Length))];
        }
        deleteManifests = await WithEntriesAsync(Mirror, deleteManifests, deleteEntries, mirrorSchemas[current], IcebergManifestFile.DeletesContent, snapshotId, sequence, [], retired);

        var highWater = new Dictionary<int, Position>(s.HighWater);
        foreach (var f in added.Where(f => f.Partition >= 0))
        {
            highWater[f.Partition] = highWater.TryGetValue(f.Partition, out var hw) && hw > f.Last ? hw : f.Last;
        }
        var contributions = pending.Where(f => f.Partition < 0).Select(f => f.Key).ToArray();
        var summary = new Dictionary<string, string>
        {
            ["added-data-files"] = Text(added.Length),
            ["added-records"] = Text(added.Sum(f => f.Rows)),
            ["added-files-size"] = Text(added.Sum(f => f.Bytes)),
            ["deleted-data-files"] = Text(removed.Count),
            ["total-data-files"] = Text(dataManifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles)),
            ["total-records"] = Text(dataManifests.Sum(m => m.AddedRows + m.ExistingRows)),
            ["saiki.first-position"] = pending.Min(f => f.First).ToString(),
            ["saiki.last-position"] = pending.Max(f => f.Last).ToString(),
            ["saiki.max-commit-time"] = pending.Max(f => f.MaxCommitTime).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            [HighWaterKey] = JsonSerializer.Serialize(highWater.ToDictionary(p => Text(p.Key), p => p.Value.ToKey())),
        };
        if (contributions.Length > 0)
        {
            summary[ChunksKey] = JsonSerializer.Serialize(contributions);
        }
        if (rewrites.Length > 0)
        {
            summary[RewritesKey] = JsonSerializer.Serialize(rewrites);
        }
        // An append adds files only; a commit that also replaces (compaction) or deletes rows is an overwrite, or a replace when it only rewrote.
        var appended = added.Any(f => f.Replaces.Count == 0);
        var operation = removed.Count == 0 ? IcebergSnapshot.Append : appended ? IcebergSnapshot.Overwrite : IcebergSnapshot.Replace;
        // The mirror first: the changelog's new version is what a restarted committer takes as done.
        var mirrorSummary = new Dictionary<string, string>(summary)
        {
            // A run of compacted files changes no row of the mirror either: their deletes are the rows already dead.
            [IcebergSnapshot.OperationKey] = !appended && removed.Count > 0 ? IcebergSnapshot.Replace
                : sortedDeletes.Length > 0 || removed.Count > 0 ? IcebergSnapshot.Overwrite : IcebergSnapshot.Append,
            ["added-position-deletes"] = Text(sortedDeletes.Length),
        };
        (IcebergTableMetadata? nextMirror, List<string> mirrorExpired) = mirror is null ? (null, [])
            : await CommitTableAsync(Mirror, mirror, s.MirrorVersion, snapshotId, sequence, current, [.. dataManifests, .. deleteManifests], mirrorSummary);
        summary[IcebergSnapshot.OperationKey] = operation;
        var (nextChangelog, changelogExpired) = await CommitTableAsync(Changelog, changelog, s.Version, snapshotId, sequence, current, dataManifests, summary);
        // From here the new versions are the tables, whether or not saving the state below succeeds.
        (_changelog, _mirror, _dataManifests, _deleteManifests) = (nextChangelog, nextMirror, dataManifests, deleteManifests);

        s.Version++;
        s.MetadataJson = nextChangelog.ToJson();
        if (nextMirror is not null)
        {
            s.MirrorVersion++;
            s.MirrorMetadataJson = nextMirror.ToJson();
        }
        s.HighWater = highWater;
        s.Chunks.UnionWith(contributions);
        s.Rewrites.AddRange(rewrites);
        if (s.Rewrites.Count > RewritesKept)
        {
            s.Rewrites.RemoveRange(0, s.Rewrites.Count - RewritesKept);
        }
        s.Pending.RemoveRange(0, pending.Length);
        s.LastCommit = DateTimeOffset.UtcNow;
        s.Retired.AddRange(retired.Distinct(StringComparer.Ordinal).Select(k => new RetiredFile(k, sequence)));
        s.Retired.AddRange(neverListed.Select(k => new RetiredFile(k, 0)));
        // Metadata and manifest lists of expired snapshots are referenced by nothing current: gone at once.
        s.Retired.AddRange(mirrorExpired.Concat(changelogExpired).Select(k => new RetiredFile(k, 0)));
        await PurgeAsync(Math.Min(nextChangelog.Snapshots.Min(x => x.SequenceNumber), nextMirror?.Snapshots.Min(x => x.SequenceNumber) ?? long.MaxValue));
        await SaveAsync();
        _oldestPending.Reset();
        if (s.Pending.Count > 0)
        {
            _oldestPending.Start();
        }
        SaikiMetrics.IcebergCommits.Add(1);
        SaikiMetrics.IcebergCommitSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        LakeLog.IcebergCommitted(logger, Address, s.Version, snapshotId, added.Length, added.Sum(f => f.Rows));
    }

    /// <summary>
    /// Deletes the retired files no kept snapshot lists any more: a file retired by the commit of sequence number q is
    /// listed only by snapshots before q, so it goes once the oldest kept snapshot is at q or later. A file that cannot
    /// be deleted now stays listed and is tried again at the next commit.
    /// </summary>
    private async Task PurgeAsync(long oldestKept)
    {
        var s = state.State;
        var due = s.Retired.Where(r => r.Sequence <= oldestKept).ToArray();
        var purged = new HashSet<RetiredFile>();
        foreach (var file in due)
        {
            try
            {
                await store.DeleteAsync(file.Key);
                purged.Add(file);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LakeLog.IcebergPurgeFailed(logger, Address, file.Key, e);
                break;
            }
        }
        s.Retired.RemoveAll(purged.Contains);
        SaikiMetrics.IcebergFilesPurged.Add(purged.Count);
    }

    /// <summary>Locations of the data files the manifests list as live.</summary>
    private async Task<HashSet<string>> LivePathsAsync(IEnumerable<IcebergManifestFile> manifests)
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in manifests)
        {
            live.UnionWith(IcebergManifests.ReadManifest(await GetAsync(m.Path), m).Where(e => e.IsLive).Select(e => e.File.FilePath));
        }
        return live;
    }

    private async Task<byte[]> GetAsync(string location) =>
        await store.GetAsync(KeyOf(location)) ?? throw new InvalidOperationException($"{location} of table {Address} is missing");

    /// <summary>A table's metadata with the schema book's schemas, created at the first commit.</summary>
    private IcebergTableMetadata Prepare(IcebergTableMetadata? metadata, Guid uuid, string kind, IcebergSchema[] schemas, int current, int lastColumnId) =>
        (metadata ?? IcebergTableMetadata.Create(uuid, store.Location(layout.Key(TablePath(kind))), schemas[current], Properties(kind), NowMs()))
            with { Schemas = schemas, CurrentSchemaId = current, LastColumnId = Math.Max(metadata?.LastColumnId ?? 0, lastColumnId) };

    /// <summary>
    /// Writes one table's manifest list and next metadata version (a new name, then the hint); returns the new
    /// metadata and the keys of the manifest lists and metadata files it no longer lists (expired).
    /// </summary>
    private async Task<(IcebergTableMetadata Metadata, List<string> Expired)> CommitTableAsync(string kind, IcebergTableMetadata metadata, int version, long snapshotId, long sequence, int schemaId,
        IReadOnlyList<IcebergManifestFile> manifests, Dictionary<string, string> summary)
    {
        var listKey = MetadataKey(kind, $"snap-{snapshotId}-1-{Guid.NewGuid():N}.avro");
        await store.PutAsync(listKey, IcebergManifests.WriteManifestList(snapshotId, metadata.CurrentSnapshotId, sequence, manifests));
        var snapshot = new IcebergSnapshot(snapshotId, metadata.CurrentSnapshotId, sequence, NowMs(), store.Location(listKey), summary, schemaId);
        var next = metadata.WithSnapshot(snapshot, version > 0 ? store.Location(MetadataKey(kind, MetadataName(version))) : null);
        var expired = new List<string>();
        if (next.Snapshots.Count > _options.SnapshotsKept)
        {
            var kept = next.Snapshots.Skip(next.Snapshots.Count - _options.SnapshotsKept).ToArray();
            expired.AddRange(next.Snapshots.Take(next.Snapshots.Count - _options.SnapshotsKept).Select(x => KeyOf(x.ManifestList)));
            next = next with { Snapshots = kept, SnapshotLog = next.SnapshotLog.Where(l => kept.Any(k => k.SnapshotId == l.SnapshotId)).ToArray() };
        }
        if (next.MetadataLog.Count > _options.SnapshotsKept)
        {
            var drop = next.MetadataLog.Count - _options.SnapshotsKept;
            expired.AddRange(next.MetadataLog.Take(drop).Select(l => KeyOf(l.MetadataFile)));
            next = next with { MetadataLog = next.MetadataLog.Skip(drop).ToArray() };
        }
        await store.PutAsync(MetadataKey(kind, MetadataName(version + 1)), Encoding.UTF8.GetBytes(next.ToJson()));
        await store.PutAsync(MetadataKey(kind, "version-hint.text"), Encoding.UTF8.GetBytes(Text(version + 1)));
        return (next, expired);
    }

    private async Task<IcebergManifestFile> WriteManifestAsync(string kind, string name, IcebergSchema schema, int content, IReadOnlyList<IcebergManifestEntry> entries, long snapshotId, long sequence)
    {
        var key = MetadataKey(kind, name);
        var manifest = IcebergManifests.WriteManifest(schema, content, entries);
        await store.PutAsync(key, manifest);
        return IcebergManifests.Describe(store.Location(key), manifest.Length, content, snapshotId, sequence, entries);
    }

    /// <inheritdoc />
    public Task<(string Location, string Json)?> MetadataAsync(bool mirror)
    {
        var s = state.State;
        var (version, json) = mirror ? (s.MirrorVersion, s.MirrorMetadataJson) : (s.Version, s.MetadataJson);
        return Task.FromResult(version > 0 && json is not null
            ? ((string, string)?)(store.Location(MetadataKey(mirror ? Mirror : Changelog, MetadataName(version))), json)
            : null);
    }

    /// <inheritdoc />
    public Task<LakeTableInfo> GetAsync()
    {
        var s = state.State;
        return Task.FromResult(new LakeTableInfo(
            _source, _table, s.Version > 0 ? store.Location(MetadataKey(Changelog, MetadataName(s.Version))) : null,
            s.MirrorVersion > 0 ? store.Location(MetadataKey(Mirror, MetadataName(s.MirrorVersion))) : null, _changelog?.CurrentSnapshotId,
            _changelog?.Snapshots.Count ?? 0, _dataManifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles), _dataManifests.Sum(m => m.AddedRows + m.ExistingRows),
            _deleteManifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles), s.Pending.Count, s.LastCommit, _alerts.ToArray(), _lastError));
    }

    private string Address => $"{_source}|{_table}";

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (state.State.Pending.Count > 0 && _oldestPending.Elapsed >= _options.CommitInterval)
        {
            try
            {
                await CommitAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Before the metadata is written, everything waiting stays pending and the next tick commits it under the
                // same version; after it, the state (already updated in memory) is saved again by the next write.
                SaikiMetrics.FlushErrors.Add(1);
                LakeLog.IcebergCommitFailed(logger, Address, state.State.Pending.Count, e);
            }
        }
    }

    private bool IsCommitted(IcebergFile file) => file.Partition < 0
        ? state.State.Chunks.Contains(file.Key)
        : file.Replaces.Count > 0
            ? state.State.Rewrites.Contains(file.Key)
            : state.State.HighWater.TryGetValue(file.Partition, out var highWater) && file.Last <= highWater;

    /// <summary>
    /// A committer may die after writing a metadata version and before saving that it did: the version is in the
    /// table, so it is adopted (its files leave the pending list) instead of committed a second time.
    /// </summary>
    private async Task AdoptCommittedVersionsAsync(CancellationToken ct)
    {
        var s = state.State;
        if (s.TableUuid == Guid.Empty)
        {
            s.TableUuid = Guid.NewGuid();
            s.MirrorUuid = Guid.NewGuid();
        }
        var adopted = false;
        while (await store.GetAsync(MetadataKey(Changelog, MetadataName(s.Version + 1)), ct) is { } next)
        {
            var metadata = IcebergTableMetadata.Parse(Encoding.UTF8.GetString(next));
            var summary = metadata.CurrentSnapshot!.Summary;
            foreach (var (partition, position) in JsonSerializer.Deserialize<Dictionary<string, string>>(summary[HighWaterKey])!)
            {
                s.HighWater[int.Parse(partition, System.Globalization.CultureInfo.InvariantCulture)] = Position.ParseKey(position);
            }
            if (summary.TryGetValue(ChunksKey, out var chunks))
            {
                s.Chunks.UnionWith(JsonSerializer.Deserialize<string[]>(chunks)!);
            }
            if (summary.TryGetValue(RewritesKey, out var rewrites))
            {
                s.Rewrites.AddRange(JsonSerializer.Deserialize<string[]>(rewrites)!);
            }
            s.Pending.RemoveAll(IsCommitted);
            s.Version++;
            s.MetadataJson = Encoding.UTF8.GetString(next);
            adopted = true;
        }
        // The mirror's version of a commit is written before the changelog's: adopt it only up to the changelog's.
        while (s.MirrorVersion < s.Version && await store.GetAsync(MetadataKey(Mirror, MetadataName(s.MirrorVersion + 1)), ct) is { } next)
        {
            s.MirrorVersion++;
            s.MirrorMetadataJson = Encoding.UTF8.GetString(next);
            adopted = true;
        }
        if (adopted)
        {
            await state.WriteStateAsync(ct);
        }
        if (s.MetadataJson is { } json)
        {
            _changelog = IcebergTableMetadata.Parse(json);
            _dataManifests = [.. await ManifestsOfAsync(_changelog, ct)];
        }
        if (s.MirrorMetadataJson is { } mirrorJson)
        {
            _mirror = IcebergTableMetadata.Parse(mirrorJson);
            _deleteManifests = (await ManifestsOfAsync(_mirror, ct)).Where(m => m.Content == IcebergManifestFile.DeletesContent).ToList();
        }
        // A previous activation may have died mid-commit: its mirror hint may name a version this one does not hold.
        if (s.Version > 0)
        {
            _sweep = true;
            try
            {
                await store.PutAsync(MetadataKey(Changelog, "version-hint.text"), Encoding.UTF8.GetBytes(Text(s.Version)), ct);
                if (s.MirrorVersion > 0)
                {
                    await store.PutAsync(MetadataKey(Mirror, "version-hint.text"), Encoding.UTF8.GetBytes(Text(s.MirrorVersion)), ct);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The next commit writes both hints, then sweeps.
                LakeLog.IcebergSweepFailed(logger, Address, e);
                return;
            }
            await SweepAsync(ct);
        }
    }

    private async Task<IReadOnlyList<IcebergManifestFile>> ManifestsOfAsync(IcebergTableMetadata metadata, CancellationToken ct)
    {
        if (metadata.CurrentSnapshot is not { } current)
        {
            return [];
        }
        var list = await store.GetAsync(KeyOf(current.ManifestList), ct)
            ?? throw new InvalidOperationException($"manifest list {current.ManifestList} of table {Address} is missing");
        return IcebergManifests.ReadManifestList(list);
    }

    /// <summary>
    /// The manifests of a new snapshot: the current ones plus one of <paramref name="added"/>, or, when that would
    /// be more than <see cref="IcebergLakeOptions.MaxManifests"/> or files are <paramref name="removed"/>, one manifest
    /// of every live file but those (the current manifests go to <paramref name="retired"/>), so a snapshot's
    /// manifest list stays short and every manifest written is one a snapshot lists.
    /// </summary>
    private async Task<List<IcebergManifestFile>> WithEntriesAsync(string kind, IReadOnlyList<IcebergManifestFile> manifests, IcebergManifestEntry[] added, IcebergSchema schema,
        int content, long snapshotId, long sequence, HashSet<string> removed, List<string> retired)
    {
        var name = content == IcebergManifestFile.DataContent ? "m0" : "d0";
        if (removed.Count == 0 && manifests.Count + (added.Length > 0 ? 1 : 0) <= _options.MaxManifests)
        {
            return added.Length == 0 ? [.. manifests] : [.. manifests, await WriteManifestAsync(kind, $"{snapshotId:x}-{name}.avro", schema, content, added, snapshotId, sequence)];
        }
        var entries = new List<IcebergManifestEntry>();
        foreach (var m in manifests)
        {
            entries.AddRange(IcebergManifests.ReadManifest(await GetAsync(m.Path), m).Where(e => e.IsLive && !removed.Contains(e.File.FilePath))
                .Select(e => e with { Status = IcebergManifestEntry.Existing }));
            retired.Add(KeyOf(m.Path));
        }
        // The files this commit adds stay ADDED: incremental readers (streaming appends) take a snapshot's ADDED entries as its new files.
        entries.AddRange(added);
        return [await WriteManifestAsync(kind, $"{snapshotId:x}-merged-{content}.avro", schema, content, entries, snapshotId, sequence)];
    }

    private static IcebergSchema ToSchema(BookVersion version, IEnumerable<(int Id, string Name, string Type, bool Required)> fields) =>
        new(version.SchemaId, fields.Select(f => new IcebergField(f.Id, f.Name, f.Required, f.Type)).ToArray());

    private Dictionary<string, string> Properties(string kind) => new()
    {
        ["write.format.default"] = "parquet",
        ["write.parquet.compression-codec"] = "zstd",
        ["write.delete.mode"] = "merge-on-read",
        ["saiki.table-kind"] = _mirrored ? kind : "events",
    };

    private static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string MetadataName(int version) => $"v{version}.metadata.json";

    /// <summary>Where a table lives: the changelog at <c>{source}/{schema.table}</c> (beside its data files), the mirror under <c>…/mirror</c>.</summary>
    private string TablePath(string kind) => kind == Changelog ? $"{_source}/{_table}" : $"{_source}/{_table}/{Mirror}";

    private string MetadataKey(string kind, string name) => layout.Key($"{TablePath(kind)}/metadata/{name}");

    /// <summary>The store key of a location this committer wrote.</summary>
    private string KeyOf(string location) => store.KeyOf(location);
}

/// <summary>Saved state of a <see cref="LakeTableGrain"/>.</summary>
[GenerateSerializer]
public sealed class LakeTableState
{
    /// <summary>Field ids of every column of every schema version.</summary>
    [Id(0)] public IcebergSchemaBook Book { get; set; } = new();
    /// <summary>Files handed over and not yet committed, in hand-over order.</summary>
    [Id(1)] public List<IcebergFile> Pending { get; set; } = [];
    /// <summary>Per partition, the last position the table holds.</summary>
    [Id(2)] public Dictionary<int, Position> HighWater { get; set; } = [];
    /// <summary>Keys of the snapshot chunk files the table holds.</summary>
    [Id(3)] public HashSet<string> Chunks { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The last metadata version committed (0 before the first).</summary>
    [Id(4)] public int Version { get; set; }
    /// <summary>The current metadata file's content.</summary>
    [Id(5)] public string? MetadataJson { get; set; }
    /// <summary>The table's uuid, fixed at its first commit.</summary>
    [Id(6)] public Guid TableUuid { get; set; }
    /// <summary>When the last snapshot was committed.</summary>
    [Id(7)] public DateTimeOffset? LastCommit { get; set; }
    /// <summary>The mirror table's uuid.</summary>
    [Id(8)] public Guid MirrorUuid { get; set; }
    /// <summary>The mirror's last metadata version.</summary>
    [Id(9)] public int MirrorVersion { get; set; }
    /// <summary>The mirror's current metadata file's content.</summary>
    [Id(10)] public string? MirrorMetadataJson { get; set; }
    /// <summary>Keys of the latest compacted files committed (a partition may hand one over again after a crash).</summary>
    [Id(11)] public List<string> Rewrites { get; set; } = [];
    /// <summary>Files no current snapshot lists, deleted once no kept snapshot does.</summary>
    [Id(12)] public List<RetiredFile> Retired { get; set; } = [];
}

/// <summary>A lake file the commit of <paramref name="Sequence"/> stopped listing (0: listed by no kept snapshot).</summary>
[GenerateSerializer, Immutable]
public sealed record RetiredFile([property: Id(0)] string Key, [property: Id(1)] long Sequence);

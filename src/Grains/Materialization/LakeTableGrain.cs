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
/// The committer of one lake table's Iceberg changelog table. Partitions write data files and hand them over; the
/// committer saves them in its state (from then on they are durable: the source may confirm them), and commits
/// what waits as one snapshot when the oldest has waited <see cref="IcebergLakeOptions.CommitInterval"/> or enough
/// rows wait. A commit writes a manifest, a manifest list and a new metadata file under a new name
/// (<c>metadata/v{N}.metadata.json</c>), then <c>metadata/version-hint.text</c>, then its state: a reader with only the
/// object store finds the table, and a committer that died after the metadata was written finds that version on
/// activation and adopts it, so a file is committed exactly once. Each snapshot's summary records the position range
/// it adds and every partition's high-water position; a file at or below its partition's high water is already in
/// the table and is not added again.
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
    private readonly IcebergLakeOptions _options = lake.Value.Iceberg;
    private readonly List<string> _alerts = [];
    private readonly Stopwatch _oldestPending = new();
    private IcebergTableMetadata? _metadata;
    private List<IcebergManifestFile> _manifests = [];
    private string _source = "";
    private string _table = "";

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        (_source, _table) = (key[..bar], key[(bar + 1)..]);
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
            await state.WriteStateAsync();
        }
        return columns;
    }

    /// <inheritdoc />
    public async Task HandOverAsync(IReadOnlyList<IcebergFile> files)
    {
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
        await state.WriteStateAsync();
        if (!_oldestPending.IsRunning)
        {
            _oldestPending.Restart();
        }
        if (s.Pending.Sum(f => f.Rows) >= _options.CommitRows)
        {
            await CommitAsync();
        }
    }

    /// <inheritdoc />
    public async Task CommitAsync()
    {
        var s = state.State;
        if (s.Pending.Count == 0)
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var pending = s.Pending.ToArray();
        var book = s.Book;
        var schemas = book.Versions.Values.OrderBy(v => v.SchemaId).Select(ToSchema).ToArray();
        var current = book.Versions[book.Current!].SchemaId;
        var metadata = (_metadata ?? IcebergTableMetadata.Create(s.TableUuid, store.Location(layout.Key($"{_source}/{_table}")), schemas[current], Properties(), NowMs()))
            with { Schemas = schemas, CurrentSchemaId = current, LastColumnId = Math.Max(_metadata?.LastColumnId ?? 0, book.LastColumnId) };
        var sequence = metadata.LastSequenceNumber + 1;
        var snapshotId = IcebergSnapshot.NewId();

        var entries = pending.Select(f => new IcebergManifestEntry(IcebergManifestEntry.Added, snapshotId, sequence, sequence, new IcebergDataFile(
            IcebergDataFile.DataContent, store.Location(f.Key), IcebergDataFile.Parquet, f.Rows, f.Bytes,
            f.ColumnSizes.Count > 0 ? f.ColumnSizes : null, f.ValueCounts.Count > 0 ? f.ValueCounts : null, f.NullCounts.Count > 0 ? f.NullCounts : null))).ToArray();
        var manifestKey = MetadataKey($"{snapshotId:x}-m0.avro");
        var manifest = IcebergManifests.WriteManifest(schemas[current], IcebergManifestFile.DataContent, entries);
        await store.PutAsync(manifestKey, manifest);
        var manifests = new List<IcebergManifestFile>(_manifests)
        {
            IcebergManifests.Describe(store.Location(manifestKey), manifest.Length, IcebergManifestFile.DataContent, snapshotId, sequence, entries),
        };
        if (manifests.Count > _options.MaxManifests)
        {
            manifests = [await MergeManifestsAsync(manifests, schemas[current], snapshotId, sequence)];
        }
        var listKey = MetadataKey($"snap-{snapshotId}-1-{Guid.NewGuid():N}.avro");
        await store.PutAsync(listKey, IcebergManifests.WriteManifestList(snapshotId, metadata.CurrentSnapshotId, sequence, manifests));

        var highWater = new Dictionary<int, Position>(s.HighWater);
        foreach (var f in pending.Where(f => f.Partition >= 0))
        {
            highWater[f.Partition] = highWater.TryGetValue(f.Partition, out var hw) && hw > f.Last ? hw : f.Last;
        }
        var chunks = pending.Where(f => f.Partition < 0).Select(f => f.Key).ToArray();
        var totalFiles = manifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles);
        var totalRows = manifests.Sum(m => m.AddedRows + m.ExistingRows);
        var summary = new Dictionary<string, string>
        {
            [IcebergSnapshot.OperationKey] = IcebergSnapshot.Append,
            ["added-data-files"] = pending.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["added-records"] = pending.Sum(f => f.Rows).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["added-files-size"] = pending.Sum(f => f.Bytes).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["total-data-files"] = totalFiles.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["total-records"] = totalRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["saiki.first-position"] = pending.Min(f => f.First).ToString(),
            ["saiki.last-position"] = pending.Max(f => f.Last).ToString(),
            ["saiki.max-commit-time"] = pending.Max(f => f.MaxCommitTime).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            [HighWaterKey] = JsonSerializer.Serialize(highWater.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value.ToKey())),
        };
        if (chunks.Length > 0)
        {
            summary[ChunksKey] = JsonSerializer.Serialize(chunks);
        }
        var snapshot = new IcebergSnapshot(snapshotId, metadata.CurrentSnapshotId, sequence, NowMs(), store.Location(listKey), summary, current);
        var previous = s.Version > 0 ? store.Location(MetadataKey(MetadataName(s.Version))) : null;
        var next = metadata.WithSnapshot(snapshot, previous);
        if (next.Snapshots.Count > _options.SnapshotsKept)
        {
            // Expired snapshots leave the metadata; their files stay until compaction and orphan cleanup remove them.
            var kept = next.Snapshots.Skip(next.Snapshots.Count - _options.SnapshotsKept).ToArray();
            next = next with { Snapshots = kept, SnapshotLog = next.SnapshotLog.Where(l => kept.Any(k => k.SnapshotId == l.SnapshotId)).ToArray() };
        }
        if (next.MetadataLog.Count > _options.SnapshotsKept)
        {
            next = next with { MetadataLog = next.MetadataLog.Skip(next.MetadataLog.Count - _options.SnapshotsKept).ToArray() };
        }
        // A new name for every version; the hint only points at it once it is complete.
        await store.PutAsync(MetadataKey(MetadataName(s.Version + 1)), Encoding.UTF8.GetBytes(next.ToJson()));
        await store.PutAsync(MetadataKey("version-hint.text"), Encoding.UTF8.GetBytes((s.Version + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        s.Version++;
        s.MetadataJson = next.ToJson();
        s.HighWater = highWater;
        s.Chunks.UnionWith(chunks);
        s.Pending.RemoveRange(0, pending.Length);
        s.LastCommit = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        _metadata = next;
        _manifests = manifests;
        _oldestPending.Reset();
        if (s.Pending.Count > 0)
        {
            _oldestPending.Start();
        }
        SaikiMetrics.IcebergCommits.Add(1);
        SaikiMetrics.IcebergCommitSeconds.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        LakeLog.IcebergCommitted(logger, Address, s.Version, snapshotId, pending.Length, pending.Sum(f => f.Rows));
    }

    /// <inheritdoc />
    public Task<(string Location, string Json)?> MetadataAsync() => Task.FromResult(state.State is { Version: > 0, MetadataJson: { } json } s
        ? ((string, string)?)(store.Location(MetadataKey(MetadataName(s.Version))), json)
        : null);

    /// <inheritdoc />
    public Task<LakeTableInfo> GetAsync()
    {
        var s = state.State;
        return Task.FromResult(new LakeTableInfo(
            _source, _table, s.Version > 0 ? store.Location(MetadataKey(MetadataName(s.Version))) : null, _metadata?.CurrentSnapshotId,
            _metadata?.Snapshots.Count ?? 0, _manifests.Sum(m => (long)m.AddedFiles + m.ExistingFiles), _manifests.Sum(m => m.AddedRows + m.ExistingRows),
            s.Pending.Count, s.LastCommit, _alerts.ToArray()));
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
                // Everything waiting stays in the state: the next tick commits it under the same metadata version.
                SaikiMetrics.FlushErrors.Add(1);
                LakeLog.IcebergCommitFailed(logger, Address, state.State.Pending.Count, e);
            }
        }
    }

    private bool IsCommitted(IcebergFile file) => file.Partition < 0
        ? state.State.Chunks.Contains(file.Key)
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
        }
        var adopted = false;
        while (await store.GetAsync(MetadataKey(MetadataName(s.Version + 1)), ct) is { } next)
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
            s.Pending.RemoveAll(IsCommitted);
            s.Version++;
            s.MetadataJson = Encoding.UTF8.GetString(next);
            adopted = true;
        }
        if (adopted)
        {
            await state.WriteStateAsync(ct);
        }
        if (s.MetadataJson is { } json)
        {
            _metadata = IcebergTableMetadata.Parse(json);
            if (_metadata.CurrentSnapshot is { } current)
            {
                var list = await store.GetAsync(KeyOf(current.ManifestList), ct)
                    ?? throw new InvalidOperationException($"manifest list {current.ManifestList} of table {Address} is missing");
                _manifests = [.. IcebergManifests.ReadManifestList(list)];
            }
        }
    }

    /// <summary>One manifest of every live file the manifests list, so a snapshot's manifest list stays short.</summary>
    private async Task<IcebergManifestFile> MergeManifestsAsync(List<IcebergManifestFile> manifests, IcebergSchema schema, long snapshotId, long sequence)
    {
        var entries = new List<IcebergManifestEntry>();
        foreach (var m in manifests)
        {
            var content = await store.GetAsync(KeyOf(m.Path)) ?? throw new InvalidOperationException($"manifest {m.Path} of table {Address} is missing");
            entries.AddRange(IcebergManifests.ReadManifest(content, m).Where(e => e.IsLive)
                .Select(e => e with { Status = IcebergManifestEntry.Existing }));
        }
        var key = MetadataKey($"{snapshotId:x}-merged.avro");
        var merged = IcebergManifests.WriteManifest(schema, IcebergManifestFile.DataContent, entries);
        await store.PutAsync(key, merged);
        return IcebergManifests.Describe(store.Location(key), merged.Length, IcebergManifestFile.DataContent, snapshotId, sequence, entries);
    }

    private static IcebergSchema ToSchema(BookVersion version) =>
        new(version.SchemaId, IcebergSchemaBook.FieldsOf(version).Select(f => new IcebergField(f.Id, f.Name, f.Required, f.Type)).ToArray());

    private static Dictionary<string, string> Properties() => new()
    {
        ["write.format.default"] = "parquet",
        ["write.parquet.compression-codec"] = "zstd",
        ["saiki.table-kind"] = "changelog",
    };

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string MetadataName(int version) => $"v{version}.metadata.json";

    private string MetadataKey(string name) => layout.Key($"{_source}/{_table}/metadata/{name}");

    /// <summary>The store key of a location this committer wrote (its own <see cref="ILakeStore.Location"/>).</summary>
    private string KeyOf(string location)
    {
        var root = store.Location("");
        return location.StartsWith(root, StringComparison.Ordinal)
            ? Uri.UnescapeDataString(location[root.Length..])
            : throw new InvalidOperationException($"{location} is not in this lake ({root})");
    }
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
}

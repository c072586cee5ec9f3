using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Saiki.Orleans.Bench;

/// <summary>
/// <c>bench postgres</c>: on one machine, one PostgreSQL and one run, compares Saiki with PostgreSQL's own tools:
/// streaming (pg_recvlogical to a file vs. capture into durable lake files), the initial snapshot (one
/// COPY … TO STDOUT vs. Saiki's parallel snapshot), commit-to-durable latency at a steady rate, and the silo's
/// peak memory. The silo is the shipped one, run as a child process and driven over REST.
/// </summary>
internal sealed class PostgresBench
{
    private static readonly string[] Required =
    [
        "stream_rows_per_s", "pg_recvlogical_rows_per_s", "stream_ratio_vs_pg_recvlogical",
        "snapshot_rows_per_s", "copy_rows_per_s", "snapshot_ratio_vs_copy",
        "p50_commit_to_durable_ms", "p99_commit_to_durable_ms", "p99_commit_to_visible_ms", "lake_live_files_per_table", "silo_peak_rss_mb",
    ];

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LatencyWarmUp = TimeSpan.FromSeconds(3);
    // A pipeline that makes no progress for this long is stuck, not slow: Saiki replays after 30 s without progress.
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(75);

    private readonly BenchOptions _options;
    private readonly BenchResults _results = new(Required);
    private readonly BenchDatabase _db;
    private readonly string _work;
    private readonly CancellationToken _ct;
    private SiloProcess? _silo;
    private double _peakRssMb = double.NaN;

    private PostgresBench(BenchOptions options, string work, CancellationToken ct)
    {
        _options = options;
        _db = new BenchDatabase(options.ConnectionString);
        _work = work;
        _ct = ct;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine($"usage: Saiki.Orleans.Bench postgres [options]{Environment.NewLine}{BenchOptions.Help}");
            return 0;
        }
        var (options, error) = BenchOptions.Parse(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync($"bench postgres: {error}{Environment.NewLine}options:{Environment.NewLine}{BenchOptions.Help}");
            return 2;
        }
        using var stop = new CancellationTokenSource();
        using var interrupt = Signals.CancelOnInterrupt(stop);
        var work = Directory.CreateTempSubdirectory("saiki-bench-").FullName;
        var bench = new PostgresBench(options, work, stop.Token);
        var clock = Stopwatch.StartNew();
        try
        {
            await bench.RunPartsAsync();
        }
        finally
        {
            await bench.CleanUpAsync();
        }
        bench._results.Set("silo_peak_rss_mb", bench._peakRssMb, "F0");
        bench._results.Set("bench_seconds", clock.Elapsed.TotalSeconds, "F0");
        bench._results.Print(Console.Out);
        return bench._results.Failed ? 1 : 0;
    }

    private async Task RunPartsAsync()
    {
        Log.Info($"bench postgres: parts {string.Join(",", _options.Parts)}; work directory {_work}; silo {_options.SiloDll}");
        try
        {
            await _db.CleanAsync(_ct);
            await _db.ExecuteAsync($"CREATE SCHEMA {BenchDatabase.Schema}", _ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _results.Fail("setup", $"cannot prepare PostgreSQL: {e.Message}");
            return;
        }
        double recv = double.NaN, stream = double.NaN, cold = double.NaN, copy = double.NaN, snapshot = double.NaN;
        if (_options.Parts.Contains("stream"))
        {
            await Part("stream baseline", async () => recv = await StreamBaselineAsync());
            await Part("stream", async () => (stream, cold) = await StreamSaikiAsync());
            _results.Set("pg_recvlogical_rows_per_s", recv, "F0");
            _results.Set("stream_rows_per_s", stream, "F0");
            _results.Set("stream_ratio_vs_pg_recvlogical", stream / recv, "F3");
            _results.Set("stream_cold_rows_per_s", cold, "F0");
            _results.Set("stream_cold_ratio_vs_pg_recvlogical", cold / recv, "F3");
            _results.Set("stream_txn_rows", _options.TransactionRows == 0 ? _options.StreamRows / 2 : _options.TransactionRows, "F0");
        }
        if (_options.Parts.Contains("latency"))
        {
            await Part("latency", LatencyAsync);
        }
        if (_options.Parts.Contains("snapshot"))
        {
            if (await Part("snapshot table", () => Workloads.CreateSnapshotTableAsync(_db, _options.SnapshotRows, _ct)))
            {
                await Part("copy baseline", async () => copy = await CopyBaselineAsync());
                await Part("snapshot", async () => snapshot = await SnapshotSaikiAsync());
            }
            _results.Set("copy_rows_per_s", copy, "F0");
            _results.Set("snapshot_rows_per_s", snapshot, "F0");
            _results.Set("snapshot_ratio_vs_copy", snapshot / copy, "F3");
        }
    }

    /// <summary>Runs one part; a failure is reported (false) and the next part still runs.</summary>
    private async Task<bool> Part(string name, Func<Task> part)
    {
        if (_ct.IsCancellationRequested)
        {
            return false;
        }
        Log.Info($"----- {name} -----");
        try
        {
            await part();
            return true;
        }
        catch (OperationCanceledException) when (_ct.IsCancellationRequested)
        {
            _results.Fail(name, "interrupted");
        }
        catch (Exception e)
        {
            _results.Fail(name, e.Message);
            if (_silo is not null)
            {
                Log.Info(_silo.LogTail());
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ streaming

    private async Task<double> StreamBaselineAsync()
    {
        var rows = _options.StreamRows;
        await _db.ExecuteAsync($"""
            {Workloads.CreateTableSql(Workloads.StreamTable, "int")};
            CREATE PUBLICATION {BenchDatabase.RecvPublication} FOR TABLE {Workloads.StreamTable};
            """, _ct);
        await using var recv = new PgRecvLogical(_options.PgBin, _db, Path.Combine(_work, "pg_recvlogical.out"));
        await recv.CreateSlotAsync(_ct);
        var lsn = await Workloads.StreamAsync(_db, Workloads.StreamTable, rows, _options.TransactionRows, _ct);
        var (seconds, sentSeconds) = await recv.StreamUntilAsync(lsn, _options.Timeout, _ct);
        await recv.StopAsync();
        File.Delete(Path.Combine(_work, "pg_recvlogical.out"));
        // The slot would keep WAL (and slow every later reader); the publication is not needed by Saiki's run.
        await _db.CleanSlotAsync(BenchDatabase.RecvSlot, _ct);
        await _db.ExecuteAsync($"DROP PUBLICATION {BenchDatabase.RecvPublication}", _ct);
        Log.Info($"pg_recvlogical: {rows:N0} changes in {seconds:F2} s = {rows / seconds:N0} rows/s");
        // The issue's baseline is the confirmed time; the sent time shows how much of it is status-interval lag.
        _results.Set("pg_recvlogical_sent_rows_per_s", rows / sentSeconds, "F0");
        return rows / seconds;
    }

    /// <summary>
    /// Two runs of the same workload, each through its own source and table. Warm (the headline): the silo runs and
    /// has captured before, the source is paused while the workload is written and the clock runs from resuming it
    /// to the last change being durable: like pg_recvlogical, the reader connects to a slot with the changes waiting.
    /// Cold: the silo is stopped while the workload is written and the clock runs from starting it, so the figure
    /// includes the silo's own start (runtime, Orleans, activations, compiling the pipeline).
    /// </summary>
    private async Task<(double Warm, double Cold)> StreamSaikiAsync()
    {
        var cold = await StreamRunAsync("bench_stream_cold", Workloads.StreamTable + "_cold", warm: false);
        return (await StreamRunAsync("bench_stream", Workloads.StreamTable, warm: true), cold);
    }

    private async Task<double> StreamRunAsync(string id, string table, bool warm)
    {
        var part = warm ? "stream" : "stream cold";
        var rows = _options.StreamRows;
        await _db.ExecuteAsync($"""
            {Workloads.CreateTableSql(table, "int")};
            TRUNCATE {table};
            """, _ct);
        var silo = await StartSiloAsync();
        await silo.Api.RegisterPostgresAsync(id, _options.ConnectionString, table, 4, "Never", _ct);
        var registered = await WaitForSourceAsync(part, id, s => s.State == "Running", s => $"state {s.State}", _ => 0, TimeSpan.FromSeconds(60));
        var before = registered.ChangesDurable;
        if (warm)
        {
            await silo.Api.PauseSourceAsync(id, _ct);
        }
        else
        {
            await StopSiloAsync();
        }

        await Workloads.StreamAsync(_db, table, rows, _options.TransactionRows, _ct);

        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        if (warm)
        {
            await silo.Api.ResumeSourceAsync(id, _ct);
        }
        else
        {
            silo = await StartSiloAsync();
            _results.Set("stream_cold_silo_start_s", clock.Elapsed.TotalSeconds, "F2");
            Log.Info($"silo serving after {clock.Elapsed.TotalSeconds:F1} s");
        }
        await WaitForSourceAsync(part, id,
            s => s.ChangesDurable - before >= rows,
            s => $"durable {s.ChangesDurable - before:N0}/{rows:N0}, captured {s.ChangesCaptured:N0}, files {s.FilesWritten:N0}, confirmed {s.ConfirmedLsn}, {s.State}",
            s => s.ChangesDurable - before, _options.Timeout, clock);
        var seconds = clock.Elapsed.TotalSeconds;
        Log.Info($"saiki {(warm ? "warm" : "cold")}: {rows:N0} changes durable {seconds:F2} s after {(warm ? "resuming the source" : "starting the silo")} = {rows / seconds:N0} rows/s");

        // Duplicates would show up as more durable rows than changes made; give late writes a moment to land.
        await Task.Delay(TimeSpan.FromSeconds(1), _ct);
        var final = await silo.Api.GetSourceAsync(id, _ct) ?? throw new InvalidOperationException($"source {id} disappeared");
        var files = await silo.Api.ListFilesAsync(id, table, _ct);
        var manifestRows = files.Sum(f => f.Rows);
        // For comparison with the polled time above: the last file's own timestamp has no polling delay in it.
        Log.Info($"the last of {files.Count} files was written {(files.Max(f => f.WrittenAt) - startedAt).TotalSeconds:F2} s after the clock started");
        var durable = final.ChangesDurable - before;
        if (durable != rows || manifestRows != rows)
        {
            _results.Fail(part, $"expected exactly {rows:N0} durable changes; the silo reports {durable:N0} and the manifest lists {manifestRows:N0}");
        }
        else
        {
            Log.Info($"verified: exactly {rows:N0} changes durable, manifest lists {manifestRows:N0} rows");
        }
        await silo.Api.RemoveSourceAsync(id, _ct);
        return rows / seconds;
    }

    // ------------------------------------------------------------------ latency

    private async Task LatencyAsync()
    {
        const string id = "bench_latency";
        await _db.ExecuteAsync(Workloads.CreateTableSql(Workloads.LatencyTable, "int"), _ct);
        var silo = await StartSiloAsync();
        await silo.Api.RegisterPostgresAsync(id, _options.ConnectionString, Workloads.LatencyTable, 4, "Never", _ct);
        var start = await WaitForSourceAsync("latency", id, s => s.State == "Running", s => $"state {s.State}", _ => 0, TimeSpan.FromSeconds(60));
        var before = start.ChangesDurable;

        long inserted = 0;
        // Files as the partitions flushed them (level 0), by key: with compaction on, the manifest lists a file only
        // until a compacted file replaces it, so the listing is taken every second and the files seen are kept.
        var flushed = new Dictionary<string, LakeFile>(StringComparer.Ordinal);
        async Task ObserveFilesAsync(CancellationToken ct)
        {
            foreach (var file in await silo.Api.ListFilesAsync(id, Workloads.LatencyTable, ct))
            {
                if (file.Level == 0)
                {
                    flushed.TryAdd(file.Key, file);
                }
            }
        }
        using var stopObserving = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        var observing = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(stopObserving.Token))
                {
                    try
                    {
                        await ObserveFilesAsync(stopObserving.Token);
                    }
                    catch (HttpRequestException)
                    {
                        // Seen at the next tick: a flushed file waits for at least CompactFiles flushes before it is replaced.
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        var progress = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            long lastDurable = 0;
            try
            {
                while (await timer.WaitForNextTickAsync(stopProgress.Token))
                {
                    SourceStatus? s;
                    try
                    {
                        s = await silo.Api.GetSourceAsync(id, stopProgress.Token);
                    }
                    catch (HttpRequestException)
                    {
                        // Only the progress line is lost; the measurement below asks again.
                        continue;
                    }
                    var durable = (s?.ChangesDurable ?? before) - before;
                    Log.Info($"latency: {clock.Elapsed.TotalSeconds:F0} s, inserted {Interlocked.Read(ref inserted):N0} ({Interlocked.Read(ref inserted) / clock.Elapsed.TotalSeconds:N0}/s), durable {durable:N0} (+{durable - lastDurable:N0}), silo RSS {silo.SampleRssMb():F0} MiB");
                    lastDurable = durable;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        long total;
        // Rows committed in the first seconds meet a silo that has not yet written a file of this source (JIT,
        // first activations); they are made at the same rate but left out, so the numbers describe the steady state.
        var measuredFrom = DateTimeOffset.UtcNow + LatencyWarmUp;
        try
        {
            total = await Workloads.SteadyInsertsAsync(_db, _options.Rate, LatencyWarmUp + _options.LatencyDuration, n => Interlocked.Exchange(ref inserted, n), _ct);
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progress;
        }
        Log.Info($"latency workload done: {total:N0} rows in {(LatencyWarmUp + _options.LatencyDuration).TotalSeconds:F0} s, the first {LatencyWarmUp.TotalSeconds:F0} s of them warm-up");
        await WaitForSourceAsync("latency", id, s => s.ChangesDurable - before >= total,
            s => $"durable {s.ChangesDurable - before:N0}/{total:N0}", s => s.ChangesDurable, TimeSpan.FromSeconds(60));

        await stopObserving.CancelAsync();
        await observing;
        await ObserveFilesAsync(_ct);
        var files = flushed.Values.ToArray();
        var latencies = new List<double>((int)total);
        long rowsInLake = 0;
        foreach (var file in files)
        {
            foreach (var commitTime in await ReadCommitTimesAsync(Path.Combine(_work, "lake", file.Key)))
            {
                rowsInLake++;
                if (commitTime >= measuredFrom)
                {
                    latencies.Add((file.WrittenAt - commitTime).TotalMilliseconds);
                }
            }
        }
        if (rowsInLake != total)
        {
            _results.Fail("latency", $"the flushed files seen hold {rowsInLake:N0} rows of the latency table in {files.Length} files; {total:N0} were inserted");
        }
        if (latencies.Count == 0)
        {
            throw new InvalidOperationException("no rows to measure latency on");
        }
        latencies.Sort();
        Log.Info($"latency over the {latencies.Count:N0} rows after warm-up, {files.Length} flushed files: min {latencies[0]:F0} ms, p50 {Percentile(latencies, 50):F0} ms, p99 {Percentile(latencies, 99):F0} ms, max {latencies[^1]:F0} ms");
        _results.Set("p50_commit_to_durable_ms", Percentile(latencies, 50), "F0");
        _results.Set("p99_commit_to_durable_ms", Percentile(latencies, 99), "F0");
        await VisibilityAsync(silo, id, measuredFrom, total);
        await silo.Api.RemoveSourceAsync(id, _ct);
    }

    /// <summary>
    /// Commit-to-visible on the Iceberg lake: for every row, from its commit in PostgreSQL to the mirror snapshot that
    /// first holds its file (the snapshot's timestamp), read from the table's own metadata and manifests; and the live
    /// data files of the table once the run's last snapshot is committed.
    /// </summary>
    private async Task VisibilityAsync(SiloProcess silo, string id, DateTimeOffset measuredFrom, long total)
    {
        var clock = Stopwatch.StartNew();
        JsonElement iceberg;
        while ((iceberg = await silo.Api.GetIcebergAsync(id, Workloads.LatencyTable, _ct)).GetProperty("pendingFiles").GetInt32() > 0 || iceberg.GetProperty("rows").GetInt64() < total)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                _results.Fail("latency", $"the Iceberg table holds {iceberg.GetProperty("rows").GetInt64():N0} of {total:N0} rows with {iceberg.GetProperty("pendingFiles").GetInt32()} files waiting after 60 s");
                return;
            }
            await Task.Delay(PollInterval, _ct);
        }
        var metadataPath = new Uri(iceberg.GetProperty("mirrorMetadataLocation").GetString()!).LocalPath;
        var metadata = Lake.Iceberg.IcebergTableMetadata.Parse(await File.ReadAllTextAsync(metadataPath, _ct));
        var latencies = new List<double>();
        long rows = 0;
        foreach (var snapshot in metadata.Snapshots.OrderBy(s => s.SequenceNumber))
        {
            var visibleAt = DateTimeOffset.FromUnixTimeMilliseconds(snapshot.TimestampMs);
            // Compacted files (a replace snapshot's) hold rows already visible in the files they replace.
            var rewrites = snapshot.Summary.TryGetValue("saiki.rewrites", out var listed) ? JsonSerializer.Deserialize<string[]>(listed)! : [];
            var list = Lake.Iceberg.IcebergManifests.ReadManifestList(await File.ReadAllBytesAsync(new Uri(snapshot.ManifestList).LocalPath, _ct));
            foreach (var manifest in list.Where(m => m.Content == Lake.Iceberg.IcebergManifestFile.DataContent))
            {
                var entries = Lake.Iceberg.IcebergManifests.ReadManifest(await File.ReadAllBytesAsync(new Uri(manifest.Path).LocalPath, _ct), manifest);
                foreach (var entry in entries.Where(e => e.Status == Lake.Iceberg.IcebergManifestEntry.Added && e.SnapshotId == snapshot.SnapshotId
                             && !rewrites.Any(key => e.File.FilePath.EndsWith(key, StringComparison.Ordinal))))
                {
                    foreach (var commitTime in await ReadCommitTimesAsync(new Uri(entry.File.FilePath).LocalPath))
                    {
                        rows++;
                        if (commitTime >= measuredFrom)
                        {
                            latencies.Add((visibleAt - commitTime).TotalMilliseconds);
                        }
                    }
                }
            }
        }
        if (rows != total || latencies.Count == 0)
        {
            _results.Fail("latency", $"the Iceberg snapshots added {rows:N0} rows of the latency table; {total:N0} were inserted");
            return;
        }
        latencies.Sort();
        var files = iceberg.GetProperty("dataFiles").GetInt64();
        Log.Info($"visible in the mirror over {latencies.Count:N0} rows, {metadata.Snapshots.Count} snapshots: p50 {Percentile(latencies, 50):F0} ms, p99 {Percentile(latencies, 99):F0} ms, max {latencies[^1]:F0} ms; {files} live data files");
        _results.Set("p50_commit_to_visible_ms", Percentile(latencies, 50), "F0");
        _results.Set("p99_commit_to_visible_ms", Percentile(latencies, 99), "F0");
        _results.Set("lake_live_files_per_table", files, "F0");
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The commit time of every change in a lake data file: Iceberg changelog Parquet or gzip JSON Lines.</summary>
    private static async Task<IReadOnlyList<DateTimeOffset>> ReadCommitTimesAsync(string path)
    {
        if (!path.EndsWith(".parquet", StringComparison.Ordinal))
        {
            return ReadJsonLinesCommitTimes(path).ToArray();
        }
        await using var stream = File.OpenRead(path);
        await using var reader = await Parquet.ParquetReader.CreateAsync(stream);
        var field = reader.Schema.DataFields.First(f => f.Name == "__commit_time");
        var times = new List<DateTimeOffset>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var values = new DateTime[checked((int)group.RowCount)];
            await group.ReadAsync<DateTime>(field, values.AsMemory(), null);
            times.AddRange(values.Select(v => new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc))));
        }
        return times;
    }

    private static IEnumerable<DateTimeOffset> ReadJsonLinesCommitTimes(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                using var doc = JsonDocument.Parse(line);
                yield return doc.RootElement.GetProperty("commit_time").GetDateTimeOffset();
            }
        }
    }

    // ------------------------------------------------------------------ snapshot

    private async Task<double> CopyBaselineAsync()
    {
        await using var conn = await _db.OpenAsync(_ct);
        var clock = Stopwatch.StartNew();
        long lines = 0;
        using (var reader = await conn.BeginTextExportAsync($"COPY {Workloads.SnapshotTable} TO STDOUT", _ct))
        {
            var buffer = new char[1 << 16];
            int read;
            while ((read = await reader.ReadAsync(buffer, _ct)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count('\n');
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (lines != _options.SnapshotRows)
        {
            throw new InvalidOperationException($"COPY returned {lines:N0} rows, expected {_options.SnapshotRows:N0}");
        }
        Log.Info($"COPY TO STDOUT: {lines:N0} rows in {seconds:F2} s = {lines / seconds:N0} rows/s");
        return lines / seconds;
    }

    private async Task<double> SnapshotSaikiAsync()
    {
        const string id = "bench_snapshot";
        var rows = _options.SnapshotRows;
        var silo = await StartSiloAsync();
        var clock = Stopwatch.StartNew();
        await silo.Api.RegisterPostgresAsync(id, _options.ConnectionString, Workloads.SnapshotTable, 4, "Initial", _ct);
        Log.Info($"snapshot source registered in {clock.Elapsed.TotalSeconds:F2} s");
        var noSnapshotDeadline = TimeSpan.FromSeconds(30);
        await WaitForSourceAsync("snapshot", id,
            s =>
            {
                if (s.Snapshot is not { Count: > 0 } tables)
                {
                    return clock.Elapsed > noSnapshotDeadline && s.State != "Snapshotting"
                        ? throw new InvalidOperationException($"the silo reports no snapshot progress {noSnapshotDeadline.TotalSeconds:F0} s after registering with snapshot Initial (state {s.State}); does it support snapshots?")
                        : false;
                }
                return tables.All(t => t.Completed);
            },
            s => s.Snapshot is { Count: > 0 } tables
                ? string.Join("; ", tables.Select(t => $"{t.Table} chunks {t.ChunksDone}/{t.ChunksTotal}, rows {t.Rows:N0} ({t.RowsPerSecond:N0}/s)")) + $", {s.State}"
                : $"no snapshot progress yet, {s.State}",
            s => s.Snapshot?.Sum(t => t.Rows + t.ChunksDone) ?? 0, _options.Timeout, clock);
        var seconds = clock.Elapsed.TotalSeconds;
        Log.Info($"saiki snapshot: {rows:N0} rows durable in {seconds:F2} s = {rows / seconds:N0} rows/s");
        var files = await silo.Api.ListFilesAsync(id, Workloads.SnapshotTable, _ct);
        var snapshotRows = files.Where(f => f.Partition == -1).Sum(f => f.Rows);
        if (snapshotRows != rows)
        {
            _results.Fail("snapshot", $"the manifest lists {snapshotRows:N0} snapshot rows in {files.Count(f => f.Partition == -1)} files; the table has {rows:N0}");
        }
        else
        {
            Log.Info($"verified: manifest lists {snapshotRows:N0} snapshot rows in {files.Count(f => f.Partition == -1)} files");
        }
        await silo.Api.RemoveSourceAsync(id, _ct);
        return rows / seconds;
    }

    // ------------------------------------------------------------------ silo and waiting

    private async Task<SiloProcess> StartSiloAsync()
    {
        if (_silo is null)
        {
            var clock = Stopwatch.StartNew();
            _silo = await SiloProcess.StartAsync(_options.SiloDll, _work, _ct);
            Log.Info($"silo started in {clock.Elapsed.TotalSeconds:F1} s at {_silo.Http.BaseAddress}");
        }
        return _silo;
    }

    private async Task StopSiloAsync()
    {
        if (_silo is { } silo)
        {
            _silo = null;
            await silo.DisposeAsync();
            _peakRssMb = double.IsNaN(_peakRssMb) ? silo.PeakRssMb : Math.Max(_peakRssMb, silo.PeakRssMb);
        }
    }

    /// <summary>
    /// Polls a source until <paramref name="done"/>, printing a line with rates every second. Fails when the source
    /// fails, when <paramref name="counter"/> stops moving for <see cref="StallTimeout"/>, or after <paramref name="timeout"/>.
    /// </summary>
    private async Task<SourceStatus> WaitForSourceAsync(
        string part, string id, Func<SourceStatus, bool> done, Func<SourceStatus, string> describe, Func<SourceStatus, long> counter,
        TimeSpan timeout, Stopwatch? clock = null)
    {
        var silo = _silo ?? throw new InvalidOperationException("the silo is not running");
        clock ??= Stopwatch.StartNew();
        var waited = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        var lastCount = long.MinValue;
        var printedCount = 0L;
        var sinceMoved = Stopwatch.StartNew();
        while (true)
        {
            SourceStatus? status;
            using (var call = CancellationTokenSource.CreateLinkedTokenSource(_ct))
            {
                call.CancelAfter(TimeSpan.FromSeconds(30));
                status = await silo.Api.GetSourceAsync(id, call.Token);
            }
            if (status is null)
            {
                throw new InvalidOperationException($"source {id} is not registered");
            }
            if (done(status))
            {
                return status;
            }
            if (status.State == "Failed")
            {
                throw new InvalidOperationException($"source {id} failed: {status.Error}");
            }
            var count = counter(status);
            if (count != lastCount)
            {
                lastCount = count;
                sinceMoved.Restart();
            }
            if (sinceMoved.Elapsed > StallTimeout && waited.Elapsed > StallTimeout)
            {
                throw new TimeoutException($"source {id} made no progress for {StallTimeout.TotalSeconds:F0} s ({describe(status)}; last error: {status.Error ?? "none"})");
            }
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"source {id} not done after {timeout.TotalSeconds:F0} s ({describe(status)}; last error: {status.Error ?? "none"})");
            }
            var elapsed = clock.Elapsed;
            if (elapsed - lastPrint >= TimeSpan.FromSeconds(1))
            {
                var rate = (count - printedCount) / (elapsed - lastPrint).TotalSeconds;
                var rates = count > 0 ? $" | {rate:N0}/s now, {count / elapsed.TotalSeconds:N0}/s average" : "";
                Log.Info($"{part}: {elapsed.TotalSeconds:F0} s, {describe(status)}{rates} | silo RSS {silo.SampleRssMb():F0} MiB");
                lastPrint = elapsed;
                printedCount = count;
            }
            await Task.Delay(PollInterval, _ct);
        }
    }

    private async Task CleanUpAsync()
    {
        Log.Info("----- clean-up -----");
        try
        {
            await StopSiloAsync();
        }
        catch (Exception e)
        {
            Log.Error($"stopping the silo: {e.Message}");
        }
        try
        {
            // Stopping the silo left its slots inactive, so this drops them along with the publications and schema.
            await _db.CleanAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            _results.Fail("clean-up", $"dropping slots, publications and schema {BenchDatabase.Schema}: {e.Message}");
        }
        if (_options.Keep)
        {
            Log.Info($"kept {_work} (lake, state, silo.log)");
        }
        else
        {
            try
            {
                Directory.Delete(_work, recursive: true);
            }
            catch (IOException e)
            {
                Log.Error($"deleting {_work}: {e.Message}");
            }
        }
    }
}

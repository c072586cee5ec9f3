using System.Diagnostics;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Bench;

/// <summary>
/// Lake materialization into S3 against PutObject. Saiki's side is what a partition grain's flush does for each file
/// (<c>PartitionGrain.WriteFileAsync</c> without the Kafka step, which is measured on its own): encode the changes
/// with <see cref="ChangeFile"/>, <see cref="S3LakeStore.PutAsync"/> the file, record the schema and the manifest
/// entry. One worker per partition, files one after another, as the partition grains run. The baseline is the same
/// number of workers putting the already-encoded bytes with a bare <see cref="AmazonS3Client"/> configured as
/// <see cref="S3LakeStore"/> configures its own, so the ratio shows what encoding and bookkeeping cost.
/// </summary>
internal sealed class DownstreamS3(DownstreamOptions options, BenchResults results, CancellationToken ct)
{
    private const double MB = 1e6;

    private readonly bool _https = options.S3Url.StartsWith("https:", StringComparison.OrdinalIgnoreCase);

    public async Task RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var data = SyntheticOrders.Generate(options.Rows, options.Partitions, options.FileRows);
        var files = data.Sum(p => p.Files.Count);
        Log.Info($"s3: {options.Rows:N0} changes as {files} files in {options.Partitions} partitions, generated in {clock.Elapsed.TotalSeconds:F1} s");

        // The baseline uploads exactly the bytes Saiki writes.
        clock.Restart();
        var encoded = data.Select(p => p.Files.Select(f => ChangeFile.Write(p.Address, f)).ToArray()).ToArray();
        var bytes = encoded.Sum(p => p.Sum(f => (long)f.Length));
        Log.Info($"s3: encoded {bytes / MB:F1} MB for the baseline in {clock.Elapsed.TotalSeconds:F1} s");
        results.Set("s3_files", files, "F0");
        results.Set("s3_file_mb", bytes / MB / files, "F2");
        // The partition whose files are re-encoded and read back (the first with any: tiny trial runs may leave some empty).
        var probe = data.Select((p, i) => (p.Files.Count, i)).First(x => x.Count > 0).i;
        // How much of Saiki's time is encoding: one partition's files again, now that the code is jitted, on one thread.
        clock.Restart();
        foreach (var file in data[probe].Files)
        {
            ChangeFile.Write(data[probe].Address, file);
        }
        var encodeRate = data[probe].Rows / clock.Elapsed.TotalSeconds;
        Log.Info($"s3: encoding alone, one thread: {encodeRate:N0} rows/s, {encoded[probe].Sum(f => (long)f.Length) / MB / clock.Elapsed.TotalSeconds:F1} MB/s of output");
        results.Set("encode_rows_per_s_one_thread", encodeRate, "F0");

        var bucket = $"saiki-bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}";
        using var s3 = CreateClient();
        await s3.PutBucketAsync(bucket, ct);
        using var store = new S3LakeStore(new S3LakeOptions
        {
            Bucket = bucket,
            ServiceUrl = options.S3Url,
            AccessKey = options.S3AccessKey,
            SecretKey = options.S3SecretKey,
        });
        try
        {
            var putSeconds = new List<double>();
            var saikiRuns = new List<MaterializeRun>();
            LakeLayout? lastPutLayout = null, lastSaikiLayout = null;
            for (var run = 1; run <= options.Repeat; run++)
            {
                // Each attempt writes under its own prefix, so none overwrites objects of another.
                var putLayout = new LakeLayout($"putobject-{run}");
                var (ok, put) = await DownstreamBench.AttemptAsync($"s3 putobject run {run}", options.Timeout, results, ct,
                    t => PutObjectLoopAsync(s3, bucket, putLayout, data, encoded, t));
                if (ok)
                {
                    Log.Info($"putobject run {run}: {bytes / MB:F1} MB in {put:F2} s = {bytes / MB / put:F1} MB/s, {options.Rows / put:N0} rows/s");
                    putSeconds.Add(put);
                    lastPutLayout = putLayout;
                }

                var layout = new LakeLayout($"saiki-{run}");
                (ok, var saiki) = await DownstreamBench.AttemptAsync($"s3 saiki run {run}", options.Timeout, results, ct,
                    t => MaterializeAsync(store, layout, data, probe, t));
                if (ok)
                {
                    Log.Info($"saiki run {run}: {saiki.Bytes / MB:F1} MB in {saiki.Seconds:F2} s = {saiki.Bytes / MB / saiki.Seconds:F1} MB/s, {options.Rows / saiki.Seconds:N0} rows/s");
                    saikiRuns.Add(saiki);
                    lastSaikiLayout = layout;
                }
            }
            var bestPut = DownstreamBench.Best(putSeconds);
            var best = saikiRuns.MinBy(r => r.Seconds);
            var saikiMbPerS = best is null ? double.NaN : best.Bytes / MB / best.Seconds;
            results.Set("s3_rows_per_s", best is null ? double.NaN : options.Rows / best.Seconds, "F0");
            results.Set("s3_mb_per_s", saikiMbPerS, "F1");
            results.Set("putobject_rows_per_s", options.Rows / bestPut, "F0");
            results.Set("putobject_mb_per_s", bytes / MB / bestPut, "F1");
            results.Set("s3_ratio_vs_putobject", saikiMbPerS / (bytes / MB / bestPut), "F3");
            if (lastSaikiLayout is not null && lastPutLayout is not null)
            {
                await VerifyAsync(store, lastSaikiLayout, saikiRuns[^1].Sample, lastPutLayout, data[probe], encoded[probe][0]);
            }
        }
        finally
        {
            if (options.Keep)
            {
                Log.Info($"s3: kept bucket {bucket}");
            }
            else
            {
                await DeleteBucketAsync(s3, store, bucket);
            }
        }
    }

    /// <summary>The client <see cref="S3LakeStore"/> would build from the same settings.</summary>
    private AmazonS3Client CreateClient() => new(new BasicAWSCredentials(options.S3AccessKey, options.S3SecretKey), new AmazonS3Config
    {
        ServiceURL = options.S3Url,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>One worker per partition putting that partition's files in order; returns the seconds taken.</summary>
    private async Task<double> PutObjectLoopAsync(AmazonS3Client s3, string bucket, LakeLayout layout, IReadOnlyList<PartitionFiles> data, byte[][][] encoded, CancellationToken t)
    {
        var keys = data.Select(p => p.Files.Select(f => DataKey(layout, p.Address, f)).ToArray()).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(data.Select((_, p) => Task.Run(async () =>
        {
            for (var f = 0; f < keys[p].Length; f++)
            {
                using var body = new MemoryStream(encoded[p][f], writable: false);
                await s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = keys[p][f],
                    InputStream = body,
                    AutoCloseStream = false,
                    // As S3LakeStore: unsigned payload over HTTPS, never aws-chunked (s3rver stores the framing).
                    DisablePayloadSigning = _https,
                    UseChunkEncoding = false,
                }, t);
            }
        }, t)));
        return clock.Elapsed.TotalSeconds;
    }

    private sealed record MaterializeRun(double Seconds, long Bytes, (string Key, byte[] Content) Sample);

    /// <summary>One worker per partition flushing that partition's files in order, as the partition grains do.</summary>
    private static async Task<MaterializeRun> MaterializeAsync(S3LakeStore store, LakeLayout layout, IReadOnlyList<PartitionFiles> data, int probe, CancellationToken t)
    {
        long bytes = 0;
        (string Key, byte[] Content) sample = default;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(data.Select(p => Task.Run(async () =>
        {
            // A manifest per partition, as each partition grain has its own (it remembers the schemas it wrote).
            var manifest = new Manifest(store, layout);
            foreach (var run in p.Files)
            {
                var (entry, content) = await WriteFileAsync(store, layout, manifest, p.Address, run, t);
                Interlocked.Add(ref bytes, entry.Bytes);
                if (p.Address.Partition == probe && sample.Key is null)
                {
                    sample = (entry.Key, content);
                }
            }
        }, t)));
        return new MaterializeRun(clock.Elapsed.TotalSeconds, bytes, sample);
    }

    /// <summary>PartitionGrain.WriteFileAsync, step by step, without Kafka, logging and metrics.</summary>
    private static async Task<(ManifestEntry Entry, byte[] Content)> WriteFileAsync(
        S3LakeStore store, LakeLayout layout, Manifest manifest, PartitionAddress address, List<(TableSchema Schema, ChangeEvent Event)> run, CancellationToken t)
    {
        var first = run[0].Event;
        var last = run[^1].Event;
        var key = layout.DataKey(address, first.Position, last.Position, first.CommitTime, LakeFormat.JsonLines);
        var content = ChangeFile.Write(address, run);
        await store.PutAsync(key, content, t);
        await manifest.AddSchemaAsync(address.SourceId, run[0].Schema, t);
        var entry = new ManifestEntry(key, address.SourceId, address.Table, address.Partition, run.Count, content.Length,
            first.Position, last.Position, run.Min(b => b.Event.CommitTime), run.Max(b => b.Event.CommitTime), DateTimeOffset.UtcNow,
            run[0].Schema.Version);
        await manifest.AddAsync(address, entry, t);
        return (entry, content);
    }

    private static string DataKey(LakeLayout layout, PartitionAddress address, List<(TableSchema Schema, ChangeEvent Event)> run) =>
        layout.DataKey(address, run[0].Event.Position, run[^1].Event.Position, run[0].Event.CommitTime, LakeFormat.JsonLines);

    /// <summary>
    /// A 200 from s3rver proves nothing (it once stored aws-chunked framing inside objects), so one file of each side
    /// is read back and compared byte for byte, Saiki's also decoded, and that partition's manifest is listed.
    /// </summary>
    private async Task VerifyAsync(S3LakeStore store, LakeLayout layout, (string Key, byte[] Content) sample, LakeLayout putLayout,
        PartitionFiles partition, byte[] putBytes)
    {
        var problems = new List<string>();
        var stored = await store.GetAsync(sample.Key, ct);
        if (!SameBytes(stored, sample.Content))
        {
            problems.Add($"{sample.Key}: stored {stored?.Length ?? 0} bytes (SHA-256 {Hash(stored)}) differ from the {sample.Content.Length} written (SHA-256 {Hash(sample.Content)})");
        }
        else if (ChangeFile.Read(stored!).Count != partition.Files[0].Count)
        {
            problems.Add($"{sample.Key}: decodes to {ChangeFile.Read(stored!).Count} changes, {partition.Files[0].Count} were written");
        }
        var putKey = DataKey(putLayout, partition.Address, partition.Files[0]);
        var putStored = await store.GetAsync(putKey, ct);
        if (!SameBytes(putStored, putBytes))
        {
            problems.Add($"{putKey}: stored {putStored?.Length ?? 0} bytes (SHA-256 {Hash(putStored)}) differ from the {putBytes.Length} put (SHA-256 {Hash(putBytes)})");
        }
        var entries = 0;
        await foreach (var _ in new Manifest(store, layout).ListAsync(partition.Address, cancellationToken: ct))
        {
            entries++;
        }
        if (entries != partition.Files.Count)
        {
            problems.Add($"partition {partition.Address.Partition} has {entries} manifest entries, {partition.Files.Count} files were written");
        }
        if (problems.Count > 0)
        {
            results.Fail("s3 verify", string.Join("; ", problems));
        }
        else
        {
            Log.Info($"s3: verified {sample.Key} and {putKey} (SHA-256 {Hash(sample.Content)[..16]}…) and partition {partition.Address.Partition}'s {entries} manifest entries");
        }
    }

    private static bool SameBytes(byte[]? stored, byte[] written) =>
        stored is not null && SHA256.HashData(stored).AsSpan().SequenceEqual(SHA256.HashData(written));

    private static string Hash(byte[]? bytes) => bytes is null ? "none" : Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Removes what the run wrote (hundreds of MB in s3rver's directory). Never fails the benchmark.</summary>
    private static async Task DeleteBucketAsync(AmazonS3Client s3, S3LakeStore store, string bucket)
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var keys = new List<string>();
            await foreach (var key in store.ListAsync("", null, limit.Token))
            {
                keys.Add(key);
            }
            foreach (var chunk in keys.Chunk(1000))
            {
                await s3.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = bucket,
                    Objects = chunk.Select(k => new KeyVersion { Key = k }).ToList(),
                }, limit.Token);
            }
            await s3.DeleteBucketAsync(bucket, limit.Token);
            Log.Info($"s3: deleted bucket {bucket} ({keys.Count} objects)");
        }
        catch (Exception e) when (e is AmazonServiceException or OperationCanceledException or HttpRequestException)
        {
            Log.Error($"s3: could not delete bucket {bucket}: {e.Message}");
        }
    }
}

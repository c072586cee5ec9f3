using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster that aims at small files (64 KiB) with a long flush interval (5 s); one table of the test writes Parquet.</summary>
public sealed class SizingCluster : PipelineCluster
{
    public const long TargetFileBytes = 64 * 1024;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    /// <summary>The schema (and source id) the test uses; the settings name its Parquet table.</summary>
    public string Schema { get; } = "sizing_" + Guid.NewGuid().ToString("N")[..8];

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Pipeline:TargetFileBytes", TargetFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Saiki:Pipeline:FlushInterval", FlushInterval.ToString()),
        new("Saiki:Pipeline:ResyncAfter", "00:00:30"),
        new($"Saiki:Lake:TableFormats:{Schema}.events_parquet", "Parquet"),
    ];
}

public sealed class FileSizingTests(SizingCluster fixture, ITestOutputHelper output) : IClassFixture<SizingCluster>
{
    [Fact]
    public async Task Burst_IsCutIntoFilesNearTheTargetSize_AndTheTailWaitsNoLongerThanTheFlushInterval()
    {
        await using var db = await TestDatabase.CreateNamedAsync(fixture.Schema);
        var s = db.Name;
        var tables = new[] { ("events_json", LakeFormat.JsonLines), ("events_parquet", LakeFormat.Parquet) };
        foreach (var (table, _) in tables)
        {
            await db.ExecuteAsync($"CREATE TABLE {s}.{table} (id bigint PRIMARY KEY, kind text, payload text, amount numeric(12,2))");
        }
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [.. tables.Select(t => $"{s}.{t.Item1}")], 1, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);

        foreach (var (table, _) in tables)
        {
            await db.ExecuteAsync($"""
                INSERT INTO {s}.{table}
                SELECT g, 'kind-' || (g % 5), md5(g::text) || md5((g * 7)::text), g * 0.37 FROM generate_series(1, 25000) g
                """);
        }

        foreach (var (table, format) in tables)
        {
            await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", ["id"], 1, TimeSpan.FromSeconds(90));
            var files = new List<ManifestEntry>();
            await foreach (var e in new Manifest(fixture.Lake, fixture.Layout).ListTableAsync(s, $"{s}.{table}"))
            {
                files.Add(e);
            }
            files = [.. files.OrderBy(f => f.First)];
            output.WriteLine($"{format}: {files.Count} files, bytes {string.Join(", ", files.Select(f => f.Bytes))} (target {SizingCluster.TargetFileBytes})");
            output.WriteLine($"{format}: written at +ms {string.Join(", ", files.Select(f => (f.WrittenAt - files[0].WrittenAt).TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");

            Assert.All(files, f => Assert.Equal(format, f.Format));
            Assert.True(files.Count >= 5, $"{files.Count} files");
            // Every file but the tail was cut by size: near the target, far from the whole burst.
            Assert.All(files[..^1], f => Assert.InRange(f.Bytes, SizingCluster.TargetFileBytes * 3 / 4, SizingCluster.TargetFileBytes * 5 / 4));
            Assert.True(files[^1].Bytes <= SizingCluster.TargetFileBytes * 5 / 4, $"tail {files[^1].Bytes} bytes");
            // The tail's first change arrived after the file before it was written; it waited the flush interval, not longer
            // (the partition checks the age of its buffer every quarter interval, at most every second).
            var tailWait = files[^1].WrittenAt - files[^2].WrittenAt;
            Assert.InRange(tailWait, SizingCluster.FlushInterval, SizingCluster.FlushInterval + TimeSpan.FromSeconds(3));
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

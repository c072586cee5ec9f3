using System.Text.Json;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>An Iceberg lake that compacts every 3 files of a level and keeps 6 snapshots.</summary>
public sealed class IcebergCompactionCluster : PipelineCluster
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Lake:Format", "Iceberg"),
        new("Saiki:Lake:Iceberg:CommitInterval", "00:00:00.500"),
        new("Saiki:Lake:Iceberg:CompactFiles", "3"),
        new("Saiki:Lake:Iceberg:MaxDeleteFiles", "3"),
        new("Saiki:Lake:Iceberg:SnapshotsKept", "6"),
    ];
}

/// <summary>
/// Compaction and expiry by Saiki itself, as icebird reads the result: while a workload of inserts, updates and
/// deletes streams, partitions rewrite their small files into larger ones and the committer commits each rewrite as
/// a snapshot replacing the small files in both tables. The mirror stays exactly the PostgreSQL table and the
/// changelog replays to it with every change once; the snapshot before a rewrite still reads the same as it did
/// until it expires; then the replaced files, and the expired snapshots' manifest lists, are gone from the store.
/// </summary>
public sealed class IcebergCompactionTests(IcebergCompactionCluster fixture) : IClassFixture<IcebergCompactionCluster>
{
    private const int Partitions = 2;

    [Fact]
    public async Task SmallFilesAreCompacted_TheMirrorStaysTheTable_OldSnapshotsReadUntilTheyExpire()
    {
        await using var db = await TestDatabase.CreateAsync("icecompact");
        var s = db.Name;
        var t = $"{s}.items";
        await db.ExecuteAsync($"CREATE TABLE {t} (id int PRIMARY KEY, v text, n bigint)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [t], Partitions, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        var committer = fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{t}");
        var next = 0;
        async Task RoundAsync()
        {
            // Each round is its own flush per partition: small files, with updates and deletes of earlier rounds' rows.
            await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'v' || g, g FROM generate_series({next + 1}, {next + 20}) g");
            await db.ExecuteAsync($"UPDATE {t} SET n = n + 1, v = v || '+' WHERE id % 7 = {next % 7}");
            await db.ExecuteAsync($"DELETE FROM {t} WHERE id = {next / 2 + 1}");
            next += 20;
            await Task.Delay(700);
        }

        // Until a snapshot replaces files (a compaction committed).
        JsonElement replace = default;
        for (var round = 0; round < 40 && replace.ValueKind == JsonValueKind.Undefined; round++)
        {
            await RoundAsync();
            replace = (await SnapshotsAsync(committer, mirror: false)).FirstOrDefault(x => Summary(x, "deleted-data-files") is { } d && d != "0");
        }
        Assert.True(replace.ValueKind != JsonValueKind.Undefined, "no snapshot replaced files after 40 rounds of small flushes");
        await Eventually.MatchAsync(() => committer.GetAsync(), i => i.PendingFiles == 0);
        var operation = Summary(replace, "operation");
        Assert.True(operation is "replace" or "overwrite", $"a compaction's snapshot is a replace (or an overwrite with new data), not {operation}");

        // The snapshot before the rewrite reads as it did: its mirror is the replay of its changelog, from its own files.
        var before = replace.GetProperty("parent-snapshot-id").GetInt64();
        var oldMirror = await fixture.ReadChangelogAsync(s, t, before, mirror: true);
        var oldReplay = ChangelogReplay.Of(await fixture.ReadChangelogAsync(s, t, before), ["id"]);
        Assert.Equal(oldReplay.Latest.Keys.Order(), oldMirror.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("id").GetRawText()).Order());
        var current = await fixture.ReadChangelogAsync(s, t, mirror: true);
        var replaced = Files(oldMirror).Except(Files(current)).ToArray();
        Assert.NotEmpty(replaced);

        // More rounds: more compaction, and enough commits for the snapshot before the rewrite to expire.
        for (var round = 0; round < 12; round++)
        {
            await RoundAsync();
        }
        var expected = await db.ReadTableAsync(t, ["id"]);
        var mirror = await Eventually.MatchAsync(() => fixture.ReadMirrorAsync(s, t),
            m => m.Count == expected.Count && m.Keys.All(expected.ContainsKey), TimeSpan.FromSeconds(60));
        foreach (var (id, row) in expected)
        {
            Assert.Equal(row["v"], mirror[id].GetProperty("v").GetString());
            Assert.Equal(row["n"], mirror[id].GetProperty("n").GetString());
        }
        var replay = await fixture.ReplayChangelogAsync(s, t, ["id"]);
        Assert.Equal(expected.Keys.Order(), replay.Latest.Keys.Order());
        // Every change once: each round inserted 20 rows and deleted one.
        Assert.Equal(next, replay.Count("c"));
        Assert.Equal(next / 20, replay.Count("d"));
        var (streamed, positions) = replay.StreamedPositions();
        Assert.Equal(streamed, positions);

        // Far fewer live files than were written: a partition keeps fewer than 3 files of each level.
        var info = await Eventually.MatchAsync(() => committer.GetAsync(), i => i.PendingFiles == 0);
        long written = 0;
        for (var p = 0; p < Partitions; p++)
        {
            written += (await fixture.Cluster.Client.GetGrain<IPartitionGrain>(new PartitionAddress(s, t, p).ToString()).GetAsync()).FilesWritten;
        }
        Assert.True(written >= next / 20, $"{written} files written in {next / 20} rounds");
        Assert.True(info.DataFiles <= Partitions * 2 * 4 && info.DataFiles * 2 < written, $"{info.DataFiles} live data files of {written} written");
        Assert.True(info.DeleteFiles <= 3 + 1, $"{info.DeleteFiles} live delete files");
        Assert.Equal(replay.Changes.Count, info.Rows);

        // The snapshot before the first rewrite has expired, and what only it listed is gone from the store.
        var kept = await SnapshotsAsync(committer, mirror: true);
        Assert.Equal(6, kept.Length);
        Assert.DoesNotContain(kept, x => x.GetProperty("snapshot-id").GetInt64() == before);
        var s3 = $"s3://{fixture.Bucket}/";
        foreach (var file in replaced)
        {
            Assert.Null(await fixture.Lake.GetAsync(file[s3.Length..]));
        }
        // Nothing else is left behind either: every stored key is referenced and every referenced file is stored.
        var problems = await Eventually.MatchAsync(() => fixture.IcebergStoreProblemsAsync(s, t), p => p.Count == 0, TimeSpan.FromSeconds(30));
        Assert.Empty(problems);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    private async Task<JsonElement[]> SnapshotsAsync(ILakeTableGrain committer, bool mirror)
    {
        var info = await committer.GetAsync();
        var location = mirror ? info.MirrorMetadataLocation : info.MetadataLocation;
        if (location is null)
        {
            return [];
        }
        var metadata = JsonDocument.Parse((await fixture.Lake.GetAsync(location[$"s3://{fixture.Bucket}/".Length..]))!).RootElement;
        return metadata.GetProperty("snapshots").EnumerateArray().ToArray();
    }

    private static string? Summary(JsonElement snapshot, string key) =>
        snapshot.GetProperty("summary").TryGetProperty(key, out var value) ? value.GetString() : null;

    private static IEnumerable<string> Files(JsonElement read) =>
        read.GetProperty("dataFiles").EnumerateArray().Select(f => f.GetString()!);
}

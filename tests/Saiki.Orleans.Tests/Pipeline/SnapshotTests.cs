using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Writes that keep a table busy while it is being snapshotted.</summary>
internal sealed class ConcurrentWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;
    private int _transactions;

    public ConcurrentWriter(TestDatabase db, string table, int maxId)
    {
        _task = Task.Run(async () =>
        {
            var random = new Random(11);
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                var id = random.Next(1, maxId);
                await db.ExecuteAsync((i % 4) switch
                {
                    0 => $"DELETE FROM {table} WHERE id = {id}",
                    1 => $"INSERT INTO {table} VALUES ({maxId + i}, 'new {i}', {i})",
                    _ => $"UPDATE {table} SET payload = 'updated {i}', n = n + 1 WHERE id = {id}",
                });
                Interlocked.Increment(ref _transactions);
            }
        });
    }

    public int Transactions => Volatile.Read(ref _transactions);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _task;
        _stop.Dispose();
    }
}

[Collection(PipelineCollection.Name)]
public sealed class SnapshotTests(PipelineCluster fixture)
{
    [Fact]
    public async Task ParallelSnapshot_WithConcurrentWrites_ThenStreaming_LakeReplayEqualsTheTable()
    {
        await using var db = await TestDatabase.CreateAsync("snap");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.big (id int PRIMARY KEY, payload text, n int);
            INSERT INTO {s}.big SELECT g, 'row ' || g || E'\ttab\nline \\ back', g FROM generate_series(1, 20000) g;
            CREATE TABLE {s}.small (k text PRIMARY KEY, v jsonb, b bytea, t timestamptz);
            INSERT INTO {s}.small VALUES ('a', jsonb_build_object('x', jsonb_build_array(1, 2)), '\x00ff', '2026-01-02 03:04:05+00'), ('b', NULL, NULL, NULL);
            """);
        await using (var writer = new ConcurrentWriter(db, $"{s}.big", 20000))
        {
            await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.big", $"{s}.small"], 3));
            var info = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.Snapshot.All(t => t.Completed));
            Assert.All(info!.Snapshot, t => Assert.True(t.Completed, $"{t.Table}: {t.ChunksDone}/{t.ChunksTotal}"));
            var big = Assert.Single(info.Snapshot, t => t.Table == $"{s}.big");
            Assert.True(big.ChunksTotal > 10, $"only {big.ChunksTotal} chunks");
            Assert.InRange(big.Rows, 19000, 21000);
            Assert.True(writer.Transactions > 0);
        }
        await db.ExecuteAsync($"UPDATE {s}.small SET v = '[]' WHERE k = 'b'");

        foreach (var (table, key) in new[] { ("big", new[] { "id" }), ("small", new[] { "k" }) })
        {
            var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", key, 3);
            Assert.True(replay.SnapshotRows > 0);
        }
        Assert.Equal(SourceState.Running, (await fixture.Client.GetSourceAsync(s))!.State);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task SnapshotNever_CapturesOnlyLaterChanges()
    {
        await using var db = await TestDatabase.CreateAsync("nosnap");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY); INSERT INTO {s}.t SELECT generate_series(1, 100)");
        var info = await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2, SnapshotMode.Never));
        Assert.Empty(info.Snapshot);
        await db.ExecuteAsync($"INSERT INTO {s}.t VALUES (1000)");
        var replay = await Eventually.MatchAsync(() => LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.t", ["id"], 2), r => r.Rows.Count > 0);
        Assert.Equal(["1000"], replay.Rows.Keys);
        Assert.Equal(0, replay.SnapshotRows);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

/// <summary>A cluster of its own: the test kills one of its silos.</summary>
public sealed class SnapshotCrashCluster : PipelineCluster;

public sealed class SnapshotCrashTests(SnapshotCrashCluster fixture) : IClassFixture<SnapshotCrashCluster>
{
    [Fact]
    public async Task KillingTheSourcesSilo_MidSnapshot_ResumesWithTheRemainingChunks_AndTheLakeEqualsTheTable()
    {
        await using var db = await TestDatabase.CreateAsync("snapkill");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.big (id int PRIMARY KEY, payload text, n int);
            INSERT INTO {s}.big SELECT g, repeat('p', 40) || g, g FROM generate_series(1, 120000) g;
            """);
        DateTimeOffset killedAt;
        await using (var writer = new ConcurrentWriter(db, $"{s}.big", 120000))
        {
            await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.big"], 4));
            var before = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.Snapshot[0].ChunksDone >= 10);
            Assert.False(before!.Snapshot[0].Completed, "the snapshot finished before the kill; make the table larger");
            killedAt = DateTimeOffset.UtcNow;
            await fixture.KillSiloHoldingAsync(fixture.Cluster.Client.GetGrain<ISourceGrain>(s));

            var after = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i is { Snapshot: [{ Completed: true }] }, TimeSpan.FromSeconds(120));
            Assert.True(after!.Snapshot[0].Completed);
        }

        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.big", ["id"], 4, TimeSpan.FromSeconds(90));

        // Chunks durable before the kill were not read again: their files keep their original write time.
        var chunks = new List<Saiki.Orleans.Lake.ManifestEntry>();
        await foreach (var e in new Saiki.Orleans.Lake.Manifest(fixture.Lake, fixture.Layout).ListTableAsync(s, $"{s}.big"))
        {
            if (e.Partition == -1)
            {
                chunks.Add(e);
            }
        }
        var status = (await fixture.Client.GetSourceAsync(s))!.Snapshot[0];
        Assert.Equal(status.ChunksTotal, chunks.Count);
        Assert.True(chunks.Count(c => c.WrittenAt < killedAt) >= 10);
        Assert.Contains(chunks, c => c.WrittenAt > killedAt);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

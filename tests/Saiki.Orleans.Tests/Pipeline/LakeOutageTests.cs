using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster whose silos reach s3rver through a proxy the test can cut.</summary>
public sealed class LakeOutageCluster : PipelineCluster
{
    protected override bool LakeBehindProxy => true;
}

public sealed class LakeOutageTests(LakeOutageCluster fixture) : IClassFixture<LakeOutageCluster>
{
    [Fact]
    public async Task S3Unreachable_CheckpointHolds_NothingIsLost_AndTheLakeEndsExactlyAsWithoutTheOutage()
    {
        await using var db = await TestDatabase.CreateAsync("s3down");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v int)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2, SnapshotMode.Never));
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 0 FROM generate_series(1, 100) g");
        var before = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.ChangesDurable == 100);
        Assert.Equal(100, before!.ChangesDurable);

        await fixture.Proxy.DownAsync();
        await db.ExecuteAsync($"BEGIN; INSERT INTO {s}.t SELECT g, 1 FROM generate_series(101, 300) g; UPDATE {s}.t SET v = v + 1 WHERE id % 2 = 0; COMMIT;");
        var outageWritesEnd = (string)(await db.ScalarAsync("SELECT pg_current_wal_lsn()::text"))!;
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>(new PartitionAddress(s, $"{s}.t", 0).ToString());
        var failing = await Eventually.MatchAsync(partition.GetAsync, p => p.LastError is not null, TimeSpan.FromSeconds(20));
        Assert.NotNull(failing.LastError);
        Assert.True(failing.BufferedRows > 0);
        var during = await fixture.Client.GetSourceAsync(s);
        Assert.Equal(100, during!.ChangesDurable);
        // Heartbeats before the outage transaction's commit may still confirm; none after it can while its changes are
        // not durable (a confirmed position past the commit would be at or beyond this LSN, read right after it).
        Assert.Equal(true, await db.ScalarAsync($"SELECT confirmed_flush_lsn < '{outageWritesEnd}'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));

        fixture.Proxy.Up();
        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 2, TimeSpan.FromSeconds(90));
        Assert.Equal(100 + 200 + 150, replay.Changes);
        var after = await Eventually.MatchAsync(partition.GetAsync, p => p.LastError is null && p.BufferedRows == 0);
        Assert.Null(after.LastError);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task ForgedAcknowledgementsPastWhatWasEmitted_DoNotMoveTheConfirmedLsn_WhileTheChangesAreNotDurable()
    {
        await using var db = await TestDatabase.CreateAsync("forged");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v int)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2, SnapshotMode.Never));
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 0 FROM generate_series(1, 50) g");
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.ChangesDurable == 50);

        await fixture.Proxy.DownAsync();
        try
        {
            await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 1 FROM generate_series(51, 150) g");
            var writesEnd = (string)(await db.ScalarAsync("SELECT pg_current_wal_lsn()::text"))!;
            var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>(new PartitionAddress(s, $"{s}.t", 0).ToString());
            await Eventually.MatchAsync(partition.GetAsync, p => p.LastError is not null && p.BufferedRows > 0, TimeSpan.FromSeconds(20));

            // Any Orleans client that reaches the cluster can call the source grain: it claims, for every partition and
            // every capture run it can guess, that everything up to a far-future position is in the lake.
            var source = fixture.Cluster.Client.GetGrain<ISourceGrain>(s);
            for (var epoch = 0L; epoch < 20; epoch++)
            {
                for (var p = 0; p < 2; p++)
                {
                    await source.AcknowledgeAsync(new PartitionAck(new PartitionAddress(s, $"{s}.t", p), new Position(ulong.MaxValue >> 1, 0), 1_000_000, 1_000, epoch));
                }
            }
            // Heartbeats keep coming every second; none may confirm past the undurable inserts.
            await Task.Delay(3000);
            Assert.Equal(true, await db.ScalarAsync($"SELECT confirmed_flush_lsn < '{writesEnd}'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
            Assert.Equal(50, (await fixture.Client.GetSourceAsync(s))!.ChangesDurable);
        }
        finally
        {
            fixture.Proxy.Up();
        }
        await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 2, TimeSpan.FromSeconds(90));
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

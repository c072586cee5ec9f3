using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>An Iceberg lake whose silos reach s3rver through a proxy the test slows down and cuts.</summary>
public sealed class IcebergLakeFaultCluster : PipelineCluster
{
    protected override bool LakeBehindProxy => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => BusyIcebergLake;
}

/// <summary>
/// Lake store faults under an Iceberg lake: S3 turns slow, then drops out again and again while PostgreSQL keeps
/// changing, so commits, compactions, purges and flushes fail half-way. Afterwards the changelog holds every change
/// exactly once, the mirror is exactly the table, no kept snapshot refers to a missing file, and nothing that the
/// failed writes left behind (including files planted as a failed commit's leftovers) stays in the store.
/// </summary>
public sealed class IcebergLakeFaultTests(IcebergLakeFaultCluster fixture) : IClassFixture<IcebergLakeFaultCluster>
{
    [Fact]
    public async Task SlowThenFailingS3_MidWorkload_LosesAndDuplicatesNothing_AndLeavesNoOrphans()
    {
        await using var db = await TestDatabase.CreateAsync("icefault");
        var s = db.Name;
        var accounts = $"{s}.accounts";
        var tables = new[] { accounts, $"{s}.transfers" };
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.accounts (id int PRIMARY KEY, balance bigint NOT NULL, version int NOT NULL);
            CREATE TABLE {s}.transfers (id bigint PRIMARY KEY, src int, dst int, amount int);
            INSERT INTO {s}.accounts SELECT g, 1000, 0 FROM generate_series(1, 40) g;
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, tables, 2, SnapshotMode.Initial));
        await using var workload = new TransferWorkload(db, s, accounts: 40, seed: 5, TimeSpan.FromMilliseconds(3), deleteEvery: 20);
        var committer = fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{accounts}");
        await Eventually.MatchAsync(() => committer.GetAsync(), i => i.Snapshots >= 2);

        // What a commit that failed half-way leaves: manifests, a manifest list, a delete file no metadata names.
        var planted = new[] { $"{s}/{accounts}/metadata/0badc0de-m0.avro", $"{s}/{accounts}/mirror/metadata/snap-1-1-0badc0de.avro", $"{s}/{accounts}/mirror/data/deletes-0badc0de.parquet" };
        foreach (var key in planted)
        {
            await fixture.Lake.PutAsync(key, "left by a failed commit"u8.ToArray());
        }

        // A slow store: every chunk either way waits.
        fixture.Proxy.Latency = TimeSpan.FromMilliseconds(100);
        await workload.AdvanceAsync(150);
        fixture.Proxy.Latency = TimeSpan.Zero;

        // Outages of different lengths, each while changes keep coming.
        var failed = false;
        foreach (var outage in new[] { 1500, 400, 2500, 700 })
        {
            await fixture.Proxy.DownAsync();
            var advanced = workload.AdvanceAsync(60);
            await Task.Delay(outage);
            failed |= (await committer.GetAsync()).LastError is not null;
            await advanced;
            fixture.Proxy.Up();
            await Task.Delay(800);
        }
        Assert.True(failed, "no commit failed during the outages: the test did not test what it means to");
        await workload.StopAsync();

        foreach (var table in tables)
        {
            var expected = await db.ReadTableAsync(table, ["id"]);
            // Under the whole suite's load on two cores the pipeline's backoffs stretch: give it time, and when rows
            // are still missing, say where they stand (waiting in a partition or the committer, or gone).
            var replay = await Eventually.MatchAsync(
                () => fixture.ReplayChangelogAsync(s, table, ["id"]),
                r => LakeReplay.Compare(expected, r.Rows).Count == 0,
                TimeSpan.FromSeconds(240));
            var differences = LakeReplay.Compare(expected, replay.Rows);
            if (differences.Count > 0)
            {
                var partitions = await Task.WhenAll(Enumerable.Range(0, 2).Select(p =>
                    fixture.Cluster.Client.GetGrain<IPartitionGrain>(new PartitionAddress(s, table, p).ToString()).GetAsync()));
                var committerNow = await fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{table}").GetAsync();
                Assert.Fail($"{string.Join(", ", differences.Take(10))} ({differences.Count} in all); committer: {committerNow.PendingFiles} pending, " +
                    $"last error {committerNow.LastError ?? "none"}; partitions: {string.Join("; ", partitions.Select(p => $"durable {p.Durable}, {p.BufferedRows} buffered, last error {p.LastError ?? "none"}"))}");
            }
            var (streamed, positions) = replay.StreamedPositions();
            Assert.Equal(streamed, positions);
            var info = await Eventually.MatchAsync(
                () => fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{table}").GetAsync(), i => i.PendingFiles == 0 && i.LastError is null);
            Assert.Equal(0, info.PendingFiles);
            Assert.Null(info.LastError);
            Assert.Equal(replay.Changes.Count, info.Rows);
            var mirror = await Eventually.MatchAsync(() => fixture.ReadMirrorAsync(s, table),
                m => m.Count == expected.Count && m.Keys.All(expected.ContainsKey), TimeSpan.FromSeconds(30));
            Assert.Equal(expected.Keys.Order(), mirror.Keys.Order());
            if (table == accounts)
            {
                Assert.Equal(40, replay.Count("r"));
                Assert.Equal((long)(await db.ScalarAsync($"SELECT sum(version) FROM {accounts}"))!, replay.Count("u"));
            }
            else
            {
                Assert.Equal(workload.Transactions, replay.Count("c"));
                Assert.Equal(workload.Transactions / 20, replay.Count("d"));
            }
            // Metadata never points at a missing file, and what failed writes left behind is gone.
            var problems = await Eventually.MatchAsync(() => fixture.IcebergStoreProblemsAsync(s, table), p => p.Count == 0, TimeSpan.FromSeconds(30));
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        }
        foreach (var key in planted)
        {
            Assert.Null(await fixture.Lake.GetAsync(key));
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

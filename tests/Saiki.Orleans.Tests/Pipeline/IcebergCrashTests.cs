using Orleans.Runtime;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster of its own with an Iceberg lake committing every 300 ms: the test kills two of its three silos.</summary>
public sealed class IcebergCrashCluster : PipelineCluster
{
    protected override short Silos => 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => BusyIcebergLake;
}

/// <summary>
/// Crashes in the middle of an Iceberg lake's work: the silo holding a table's committer, then the silo holding one
/// of its partitions, die without warning while PostgreSQL keeps changing. Once the cluster has recovered,
/// icebird's replay of each changelog table equals the table, every streamed change is in it exactly once,
/// nothing waits uncommitted, and icebird reads each mirror table as exactly the table. Partitions compact
/// every two files, snapshots expire after five and delete files are rewritten every few commits, so the crashes
/// also hit compactions, purges and delete-file rewrites.
/// </summary>
public sealed class IcebergCrashTests(IcebergCrashCluster fixture) : IClassFixture<IcebergCrashCluster>
{
    private const int Partitions = 4;

    [Fact]
    public async Task KillingTheCommittersSilo_ThenAPartitionsSilo_MidWorkload_ChangelogReplaysToTheTables_EveryChangeOnce()
    {
        await using var db = await TestDatabase.CreateAsync("icecrash");
        var s = db.Name;
        var accounts = $"{s}.accounts";
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.accounts (id int PRIMARY KEY, balance bigint NOT NULL, version int NOT NULL);
            CREATE TABLE {s}.transfers (id bigint PRIMARY KEY, src int, dst int, amount int);
            INSERT INTO {s}.accounts SELECT g, 1000, 0 FROM generate_series(1, 50) g;
            """);
        // The accounts arrive as snapshot rows, every change after them streamed.
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [accounts, $"{s}.transfers"], Partitions, SnapshotMode.Initial));
        await using var workload = new TransferWorkload(db, s, accounts: 50, seed: 11, TimeSpan.FromMilliseconds(2), deleteEvery: 25);

        // Once the accounts' committer has committed streamed changes and holds files it has not committed yet,
        // kill its silo without warning.
        var committer = fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{accounts}");
        await Eventually.MatchAsync(() => committer.GetAsync(), i => i.Snapshots >= 2 && i.Rows > 200 && i.PendingFiles > 0);
        var advanced = workload.AdvanceAsync(200);
        var killedAt = DateTimeOffset.UtcNow;
        var committerSilo = await fixture.KillSiloHoldingAsync(committer);
        await advanced;

        // Then, once the committer commits again elsewhere, the silo of one of the accounts' partitions while it
        // buffers changes it has not written yet.
        var resumed = await Eventually.MatchAsync(() => committer.GetAsync(), i => i.LastCommit > killedAt);
        Assert.True(resumed.LastCommit > killedAt, "the committer did not commit again after its silo died");
        Assert.True(fixture.Cluster.TryGetGrainContext(committer.GetGrainId(), out var moved));
        Assert.NotEqual(committerSilo.SiloAddress, moved!.Address.SiloAddress);
        var partitions = Enumerable.Range(0, Partitions)
            .Select(p => fixture.Cluster.Client.GetGrain<IPartitionGrain>(new PartitionAddress(s, accounts, p).ToString()))
            .ToArray();
        var partition = await Eventually.MatchAsync(
            async () =>
            {
                foreach (var p in partitions.Where(p => fixture.Cluster.TryGetGrainContext(p.GetGrainId(), out _)))
                {
                    if ((await p.GetAsync()).BufferedRows > 0)
                    {
                        return p;
                    }
                }
                return null;
            },
            p => p is not null);
        Assert.NotNull(partition);
        advanced = workload.AdvanceAsync(200);
        var partitionSilo = await fixture.KillSiloHoldingAsync(partition);
        await advanced;
        await workload.StopAsync();
        Assert.NotEqual(committerSilo.SiloAddress, partitionSilo.SiloAddress);

        foreach (var table in new[] { accounts, $"{s}.transfers" })
        {
            var expected = await db.ReadTableAsync(table, ["id"]);
            var replay = await Eventually.MatchAsync(
                () => fixture.ReplayChangelogAsync(s, table, ["id"]),
                r => LakeReplay.Compare(expected, r.Rows).Count == 0,
                TimeSpan.FromSeconds(60));
            Assert.Empty(LakeReplay.Compare(expected, replay.Rows));
            var (streamed, positions) = replay.StreamedPositions();
            Assert.Equal(streamed, positions);
            var info = await Eventually.MatchAsync(
                () => fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{table}").GetAsync(), i => i.PendingFiles == 0);
            Assert.Equal(0, info.PendingFiles);
            Assert.Equal(replay.Changes.Count, info.Rows);
            // The mirror, with its position deletes (some aimed at compacted files), is exactly the table.
            var mirror = await Eventually.MatchAsync(() => fixture.ReadMirrorAsync(s, table),
                m => m.Count == expected.Count && m.Keys.All(expected.ContainsKey), TimeSpan.FromSeconds(30));
            Assert.Equal(expected.Keys.Order(), mirror.Keys.Order());

            if (table == accounts)
            {
                // Every update of an account is in the changelog exactly once: version counts them.
                Assert.Equal(50, replay.Count("r"));
                Assert.Equal((long)(await db.ScalarAsync($"SELECT sum(version) FROM {accounts}"))!, replay.Count("u"));
                Assert.Equal(0, replay.Count("c") + replay.Count("d"));
            }
            else
            {
                // One transfer inserted a transaction, one deleted every 25th.
                Assert.Equal(workload.Transactions, replay.Count("c"));
                Assert.Equal(workload.Transactions / 25, replay.Count("d"));
                Assert.Equal(0, replay.Count("u") + replay.Count("r"));
            }
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

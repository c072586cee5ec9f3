using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;
using Saiki.Orleans.Capture.Snapshot;
using Saiki.Orleans.Materialization;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Starts with one silo; the test grows and shrinks it. Rebalancing starts within seconds.</summary>
public sealed class ElasticCluster : PipelineCluster
{
    protected override short Silos => 1;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Cluster:Rebalance", "true"),
        new("Saiki:Cluster:RebalanceDueTime", "00:00:02"),
        new("Saiki:Cluster:RebalanceCyclePeriod", "00:00:02"),
    ];
}

public sealed class ElasticityTests(ElasticCluster fixture) : IClassFixture<ElasticCluster>
{
    [Fact]
    public async Task GrowingOneToThreeSilosAndBack_DuringAWorkload_SpreadsWork_AndTheLakeStillEqualsTheTables()
    {
        await using var db = await TestDatabase.CreateAsync("elastic");
        var s = db.Name;
        var bulk = s + "_bulk";
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.accounts (id int PRIMARY KEY, balance bigint NOT NULL, version int NOT NULL);
            CREATE TABLE {s}.transfers (id bigint PRIMARY KEY, src int, dst int, amount int);
            CREATE TABLE {s}.items (id int PRIMARY KEY, payload text NOT NULL);
            INSERT INTO {s}.accounts SELECT g, 1000, 0 FROM generate_series(1, 50) g;
            INSERT INTO {s}.items SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 40000) g;
            """);
        const int partitions = 6;
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.accounts", $"{s}.transfers"], partitions));
        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);

        await using var workload = new TransferWorkload(db, s, accounts: 50, seed: 11, TimeSpan.FromMilliseconds(3));
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(s))?.ChangesDurable ?? 0, n => n > 300);
        var original = fixture.Cluster.Silos.Single();

        // Grow to three silos while the workload runs.
        var added = new List<InProcessSiloHandle> { await fixture.Cluster.StartAdditionalSiloAsync(), await fixture.Cluster.StartAdditionalSiloAsync() };
        await fixture.Cluster.WaitForLivenessToStabilizeAsync();

        // New work lands on the new silos: the parallel snapshot of a second source reads chunks on several silos.
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(bulk, db.ConnectionString, [$"{s}.items"], partitions));
        var chunkSilos = new HashSet<SiloAddress>();
        while ((await fixture.Client.GetSourceAsync(bulk))!.Snapshot is var tables && (tables.Count == 0 || !tables.All(t => t.Completed)))
        {
            chunkSilos.UnionWith(await SilosHostingAsync(management, typeof(SnapshotChunkGrain)));
            await Task.Delay(50);
        }
        Assert.True(chunkSilos.Count >= 2, $"snapshot chunks ran on {chunkSilos.Count} silo(s) of 3");

        // Existing partitions move onto the new silos: the rebalancer evens out activations.
        await Eventually.MatchAsync(
            () => SilosHostingAsync(management, typeof(PartitionGrain)),
            silos => added.All(a => silos.Contains(a.SiloAddress)),
            TimeSpan.FromSeconds(90));

        // Shrink back to one silo, gracefully (as on scale-down), starting with the silo that captures.
        var source = fixture.Cluster.Client.GetGrain<ISourceGrain>(s);
        Assert.True(fixture.Cluster.TryGetGrainContext(source.GetGrainId(), out var context));
        var capturing = fixture.Cluster.GetSiloForAddress(context!.Address.SiloAddress!)!;
        var survivor = added.First(a => a.SiloAddress != capturing.SiloAddress);
        foreach (var silo in new[] { original, added[0], added[1] }.Where(x => x.SiloAddress != survivor.SiloAddress).OrderBy(x => x.SiloAddress == capturing.SiloAddress ? 0 : 1))
        {
            var advanced = workload.AdvanceAsync(150);
            await fixture.Cluster.StopSiloAsync(silo);
            await advanced;
        }
        Assert.Single(fixture.Cluster.GetActiveSilos());
        await workload.StopAsync();

        // The capture grain moved with its slot position: every change exactly once, in order.
        foreach (var (table, key) in new[] { ("accounts", new[] { "id" }), ("transfers", new[] { "id" }) })
        {
            await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", key, partitions, TimeSpan.FromSeconds(90));
        }
        await fixture.AssertLakeMatchesAsync(db, bulk, $"{s}.items", ["id"], partitions, TimeSpan.FromSeconds(90));
        var accounts = await LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.accounts", ["id"], partitions);
        var updates = (long)(await db.ScalarAsync($"SELECT sum(version) FROM {s}.accounts"))!;
        Assert.Equal(50, accounts.SnapshotRows);
        Assert.Equal(updates, accounts.Changes);
        Assert.True(fixture.Cluster.TryGetGrainContext(source.GetGrainId(), out var moved));
        Assert.Equal(survivor.SiloAddress, moved!.Address.SiloAddress);

        Assert.True(await fixture.Client.RemoveSourceAsync(s));
        Assert.True(await fixture.Client.RemoveSourceAsync(bulk));
    }

    // Statistics name a grain class as "namespace.class,assembly".
    private static async Task<HashSet<SiloAddress>> SilosHostingAsync(IManagementGrain management, Type grainClass) =>
        (await management.GetDetailedGrainStatistics()).Where(g => g.GrainType.StartsWith(grainClass.FullName + ",", StringComparison.Ordinal)).Select(g => g.SiloAddress).ToHashSet();
}

using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster of its own: the test kills one of its silos.</summary>
public sealed class CrashCluster : PipelineCluster;

public sealed class CrashTests(CrashCluster fixture) : IClassFixture<CrashCluster>
{
    [Fact]
    public async Task KillingTheSiloThatHoldsTheSource_MidWorkload_LakeStillReproducesTablesWithoutDuplicates()
    {
        await using var db = await TestDatabase.CreateAsync("crash");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.accounts (id int PRIMARY KEY, balance bigint NOT NULL, version int NOT NULL);
            CREATE TABLE {s}.transfers (id bigint PRIMARY KEY, src int, dst int, amount int);
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.accounts", $"{s}.transfers"], 4));
        await db.ExecuteAsync($"INSERT INTO {s}.accounts SELECT g, 1000, 0 FROM generate_series(1, 50) g");

        await using var workload = new TransferWorkload(db, s, accounts: 50, seed: 7, TimeSpan.FromMilliseconds(2), deleteEvery: 25);

        // Let capture and materialization get going, then kill the source's silo without warning.
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(s))?.ChangesDurable ?? 0, n => n > 500);
        var source = fixture.Cluster.Client.GetGrain<ISourceGrain>(s);
        var advanced = workload.AdvanceAsync(300);
        var victim = await fixture.KillSiloHoldingAsync(source);

        // The workload keeps writing while the cluster notices and the source restarts elsewhere.
        await advanced;
        await workload.StopAsync();

        foreach (var (table, key) in new[] { ("accounts", new[] { "id" }), ("transfers", new[] { "id" }) })
        {
            await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", key, 4, TimeSpan.FromSeconds(90));
        }
        // Every update of an account is in the lake exactly once: version counts them.
        var accounts = await LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.accounts", ["id"], 4);
        var updates = (long)(await db.ScalarAsync($"SELECT sum(version) FROM {s}.accounts"))!;
        Assert.Equal(50 + updates, accounts.Changes);

        Assert.True(fixture.Cluster.TryGetGrainContext(source.GetGrainId(), out var moved));
        Assert.NotEqual(victim.SiloAddress, moved!.Address.SiloAddress);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

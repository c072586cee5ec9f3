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

        using var stop = new CancellationTokenSource();
        var transactions = 0;
        var workload = Task.Run(async () =>
        {
            var random = new Random(7);
            for (var id = 1L; !stop.IsCancellationRequested; id++)
            {
                int a = random.Next(1, 51), b = random.Next(1, 51), amount = random.Next(1, 20);
                await db.ExecuteAsync($"""
                    BEGIN;
                    UPDATE {s}.accounts SET balance = balance - {amount}, version = version + 1 WHERE id = {a};
                    UPDATE {s}.accounts SET balance = balance + {amount}, version = version + 1 WHERE id = {b};
                    INSERT INTO {s}.transfers VALUES ({id}, {a}, {b}, {amount});
                    {(id % 25 == 0 ? $"DELETE FROM {s}.transfers WHERE id = {id - 10};" : "")}
                    COMMIT;
                    """);
                Interlocked.Increment(ref transactions);
                await Task.Delay(2);
            }
        });

        // Let capture and materialization get going, then kill the source's silo without warning.
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(s))?.ChangesDurable ?? 0, n => n > 500);
        var source = fixture.Cluster.Client.GetGrain<ISourceGrain>(s);
        var before = Volatile.Read(ref transactions);
        var victim = await fixture.KillSiloHoldingAsync(source);

        // The workload keeps writing while the cluster notices and the source restarts elsewhere.
        await Eventually.MatchAsync(() => Task.FromResult(Volatile.Read(ref transactions)), n => n > before + 300);
        await stop.CancelAsync();
        await workload;

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

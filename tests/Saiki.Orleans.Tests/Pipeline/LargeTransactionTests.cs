using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class LargeTransactionTests(PipelineCluster fixture)
{
    [Fact]
    public async Task TransactionTenTimesLargerThanTheInFlightLimit_StreamsThroughExactly()
    {
        await using var db = await TestDatabase.CreateAsync("bigtx");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v text)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 4, SnapshotMode.Never));
        // The cluster allows 20,000 changes in flight; this transaction has 200,000 (then 50,000 more).
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 'v' || g FROM generate_series(1, 200000) g");
        await db.ExecuteAsync($"UPDATE {s}.t SET v = 'changed' WHERE id % 4 = 0");

        var expected = await db.ReadTableAsync($"{s}.t", ["id"]);
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.ChangesDurable >= 250_000, TimeSpan.FromSeconds(120));
        var replay = await LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.t", ["id"], 4);
        Assert.Empty(replay.Problems);
        Assert.Equal(250_000, replay.Changes);
        Assert.Empty(LakeReplay.Compare(expected, replay.Rows));
        // Files were cut inside the first transaction rather than after it.
        Assert.True(replay.Files > 8, $"{replay.Files} files");
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

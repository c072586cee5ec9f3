using System.Text.Json;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class CompletenessTests(PipelineCluster fixture)
{
    [Fact]
    public async Task CompleteUpToT_MeansEveryChangeCommittedBeforeTIsAlreadyInTheLake()
    {
        await using var db = await TestDatabase.CreateAsync("complete");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v int); INSERT INTO {s}.t VALUES (0, 0)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2));
        for (var i = 1; i <= 20; i++)
        {
            await db.ExecuteAsync($"INSERT INTO {s}.t VALUES ({i}, {i}); UPDATE {s}.t SET v = v + 1 WHERE id = {i - 1}");
        }
        var committed = (DateTime)(await db.ScalarAsync("SELECT clock_timestamp()"))!;

        var info = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.CompleteUpTo >= committed, TimeSpan.FromSeconds(30));
        Assert.True(info!.CompleteUpTo >= committed, $"complete up to {info.CompleteUpTo}, last commit before {committed:O}");
        // No waiting from here on: the promise must already hold.
        var expected = await db.ReadTableAsync($"{s}.t", ["id"]);
        var replay = await LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.t", ["id"], 2);
        Assert.Empty(LakeReplay.Compare(expected, replay.Rows));

        var marker = await Eventually.MatchAsync(() => fixture.Lake.GetAsync(fixture.Layout.CompletenessKey(s, $"{s}.t")), b => b is not null);
        var markedUpTo = JsonDocument.Parse(marker!).RootElement.GetProperty("complete_up_to").GetDateTimeOffset();
        Assert.True(markedUpTo >= committed.AddSeconds(-5), $"marker says {markedUpTo}");
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

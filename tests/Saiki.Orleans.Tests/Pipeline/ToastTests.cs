using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Large values an update does not touch never reach the lake as placeholders.</summary>
[Collection(PipelineCollection.Name)]
public sealed class ToastTests(PipelineCluster fixture)
{
    [Fact]
    public async Task UpdateOfANonToastedColumn_MarksTheBigValueUnchanged_OrFillsItFromTheFullOldRow()
    {
        await using var db = await TestDatabase.CreateAsync("toast");
        var s = db.Name;
        const string big = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)";
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.keyed (id int PRIMARY KEY, small int, big text);
            CREATE TABLE {s}.full_row (id int PRIMARY KEY, small int, big text);
            ALTER TABLE {s}.keyed ALTER COLUMN big SET STORAGE EXTERNAL;
            ALTER TABLE {s}.full_row ALTER COLUMN big SET STORAGE EXTERNAL;
            ALTER TABLE {s}.full_row REPLICA IDENTITY FULL;
            INSERT INTO {s}.keyed VALUES (1, 0, {big});
            INSERT INTO {s}.full_row VALUES (1, 0, {big});
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.keyed", $"{s}.full_row"], 1));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"UPDATE {s}.keyed SET small = 1; UPDATE {s}.full_row SET small = 1;");

        foreach (var (table, marked) in new[] { ("keyed", true), ("full_row", false) })
        {
            var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", ["id"], 1);
            Assert.Equal(12800, replay.Rows["1"]["big"]!.Length);

            var update = await FindUpdateAsync(s, $"{s}.{table}");
            if (marked)
            {
                Assert.Equal(["big"], update.Unchanged!);
                Assert.False(update.After!.ContainsKey("big"));
            }
            else
            {
                Assert.Null(update.Unchanged);
                Assert.Equal(replay.Rows["1"]["big"], update.After!["big"]);
            }
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    private async Task<LakeRecord> FindUpdateAsync(string source, string table)
    {
        await foreach (var entry in new Manifest(fixture.Lake, fixture.Layout).ListTableAsync(source, table))
        {
            if (ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!).FirstOrDefault(r => r.Op == "u") is { } update)
            {
                return update;
            }
        }
        throw new InvalidOperationException($"no update of {table} in the lake");
    }
}

using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class EndToEndTests(PipelineCluster fixture)
{
    [Fact]
    public async Task MixedWorkload_LakeReplayReproducesEveryTableExactly()
    {
        await using var db = await TestDatabase.CreateAsync("e2e");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.orders (id int PRIMARY KEY, status text NOT NULL, amount numeric(10,2), note text);
            CREATE TABLE {s}.items (order_id int, line int, sku text, qty int, PRIMARY KEY (order_id, line));
            CREATE TABLE {s}.events (id bigint, kind text, payload text);
            ALTER TABLE {s}.events REPLICA IDENTITY FULL;
            """);
        var info = await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.orders", $"{s}.items", $"{s}.events"], 3));
        Assert.Equal(SourceState.Snapshotting, info.State);
        Assert.Equal(3, info.Snapshot.Count);

        await db.ExecuteAsync($"""
            INSERT INTO {s}.orders SELECT g, 'created', g * 1.5, NULL FROM generate_series(1, 300) g;
            INSERT INTO {s}.items SELECT g % 100 + 1, g, 'sku-' || g, g % 7 FROM generate_series(1, 400) g;
            """);
        // Many small transactions touching the same keys again and again.
        for (var round = 0; round < 20; round++)
        {
            await db.ExecuteAsync($"""
                BEGIN;
                UPDATE {s}.orders SET status = 'paid-{round}', note = 'round {round}' WHERE id % 20 = {round};
                UPDATE {s}.items SET qty = qty + 1 WHERE line % 10 = {round % 10};
                INSERT INTO {s}.events VALUES ({round}, 'tick', repeat('x', {round}));
                COMMIT;
                """);
        }
        await db.ExecuteAsync($"""
            DELETE FROM {s}.orders WHERE id > 280;
            UPDATE {s}.orders SET id = id + 1000 WHERE id = 5;
            UPDATE {s}.orders SET amount = NULL, note = 'it''s "quoted" | pipe' WHERE id = 6;
            TRUNCATE {s}.events;
            INSERT INTO {s}.events VALUES (100, 'after-truncate', NULL), (100, 'after-truncate', 'dup key ok');
            DELETE FROM {s}.items WHERE order_id = 3;
            INSERT INTO {s}.orders VALUES (5, 'reborn', 1.00, NULL);
            """);

        await AssertLakeMatchesAsync(db, s, ("orders", ["id"]), ("items", ["order_id", "line"]), ("events", ["id", "kind", "payload"]));

        var source = await fixture.Client.GetSourceAsync(s);
        Assert.NotNull(source);
        Assert.Equal(SourceState.Running, source.State);
        Assert.NotEqual("0/0", source.ConfirmedLsn);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
        Assert.Null(await db.ScalarAsync($"SELECT 1 FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
    }

    private async Task AssertLakeMatchesAsync(TestDatabase db, string schema, params (string Table, string[] Key)[] tables)
    {
        foreach (var (table, key) in tables)
        {
            await fixture.AssertLakeMatchesAsync(db, schema, $"{schema}.{table}", key, 3);
        }
    }
}

using Saiki.Orleans.Tests.Infrastructure;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Every value reaches the lake in PostgreSQL's own text form, by snapshot and by stream alike.</summary>
[Collection(PipelineCollection.Name)]
public sealed class TypeRoundTripTests(PipelineCluster fixture)
{
    [Fact]
    public async Task EveryCommonType_RoundTripsExactly_InSnapshotAndStream()
    {
        await using var db = await TestDatabase.CreateAsync("types");
        var s = db.Name;
        const string row = """
            (%ID%, 32767, 2147483647, -9223372036854775808, 123456789012345678901234.567890123456, 'NaN', 1.5e-7, 3.141592653589793,
             E'tab\there\nnewline \\ backslash "quote" ''single'' ünïcödé 🙂', 'varchar', true,
             'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, null], "b": "x"}', '{"z": 1, "a": {"nested": true}}',
             '\x00ff10', '2026-02-28', '23:59:59.999999', '12:00:00+05:30', '2026-11-26 10:11:12.123456',
             '2026-11-26 10:11:12.123456+02', '1 year 2 months 3 days 04:05:06.7', '{1,NULL,3}', '{"a b","c,d","e\"f",NULL}', 'paid',
             '{{1,2},{3,4}}', NULL)
            """;
        await db.ExecuteAsync($"""
            CREATE TYPE {s}.status AS ENUM ('new', 'paid');
            CREATE TABLE {s}.t (
                id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, num numeric(60,12), num_nan numeric, r real, d double precision,
                txt text, vc varchar(20), b boolean, u uuid, j json, jb jsonb, by bytea, dt date, tm time, ttz timetz,
                ts timestamp, tstz timestamptz, iv interval, ai int[], at text[], en {s}.status, a2 int[][], nothing text);
            INSERT INTO {s}.t VALUES {row.Replace("%ID%", "1")};
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"INSERT INTO {s}.t VALUES {row.Replace("%ID%", "2")}; UPDATE {s}.t SET num = -0.000000000001, iv = '-1 day', b = false WHERE id = 1;");

        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 2);
        Assert.Equal(1, replay.SnapshotRows);
        Assert.Equal("123456789012345678901234.567890123456", replay.Rows["2"]["num"]);
        Assert.Equal("\\x00ff10", replay.Rows["2"]["by"]);
        Assert.Null(replay.Rows["2"]["nothing"]);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

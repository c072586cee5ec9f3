using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class SchemaChangeTests(PipelineCluster fixture)
{
    [Fact]
    public async Task AddDropAndAlterColumnMidStream_EachFileHoldsOneSchemaVersion_AndTheReplayStaysExact()
    {
        await using var db = await TestDatabase.CreateAsync("ddl");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, a text, b int); INSERT INTO {s}.t VALUES (1, 'one', 1), (2, 'two', 2)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 1));
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 'n' || g, g FROM generate_series(3, 5) g");
        await db.ExecuteAsync($"ALTER TABLE {s}.t ADD COLUMN c numeric(10,2)");
        await db.ExecuteAsync($"INSERT INTO {s}.t VALUES (6, 'six', 6, 6.5); UPDATE {s}.t SET c = 1.5 WHERE id < 6");
        await db.ExecuteAsync($"ALTER TABLE {s}.t DROP COLUMN b");
        await db.ExecuteAsync($"UPDATE {s}.t SET a = a || '!'");
        await db.ExecuteAsync($"ALTER TABLE {s}.t ALTER COLUMN c TYPE numeric(12,4)");
        await db.ExecuteAsync($"UPDATE {s}.t SET c = c + 1");

        // 3 inserts, 1 insert, 5 + 6 + 6 updates after the consistent point.
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.ChangesDurable >= 21);
        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 1);
        Assert.Equal("2.5000", replay.Rows["1"]["c"]);

        var manifest = new Manifest(fixture.Lake, fixture.Layout);
        var schemas = new Dictionary<string, Saiki.Orleans.Changes.TableSchema>();
        await foreach (var schema in manifest.ListSchemasAsync(s, $"{s}.t"))
        {
            schemas[schema.Version] = schema;
        }
        var entries = new List<string>();
        await foreach (var entry in manifest.ListTableAsync(s, $"{s}.t"))
        {
            entries.Add($"{entry.Partition}:{entry.Rows}:{entry.SchemaVersion}:{string.Join("/", ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!).Select(r => r.Op + string.Join(",", r.After!.Keys)))}");
        }
        Assert.True(schemas.Count >= 4, string.Join(" | ", entries));
        var columnSets = schemas.Values.Select(v => string.Join(",", v.Columns.Select(c => $"{c.Name}:{c.Type}"))).ToHashSet();
        Assert.Contains("id:integer,a:text,b:integer", columnSets);
        Assert.Contains("id:integer,a:text,b:integer,c:numeric(10,2)", columnSets);
        Assert.Contains("id:integer,a:text,c:numeric(10,2)", columnSets);
        Assert.Contains("id:integer,a:text,c:numeric(12,4)", columnSets);

        await foreach (var entry in manifest.ListTableAsync(s, $"{s}.t"))
        {
            var names = schemas[entry.SchemaVersion].Columns.Select(c => c.Name).ToHashSet();
            foreach (var record in ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!))
            {
                Assert.True(names.SetEquals(record.After!.Keys), $"{entry.Key} ({entry.SchemaVersion}) has a row with {string.Join(",", record.After!.Keys)}");
            }
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

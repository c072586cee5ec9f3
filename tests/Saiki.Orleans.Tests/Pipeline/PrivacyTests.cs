using System.Security.Cryptography;
using System.Text;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Table patterns and column rules: what a team keeps out of the lake stays out, in snapshot and stream.</summary>
[Collection(PipelineCollection.Name)]
public sealed class PrivacyTests(PipelineCluster fixture)
{
    [Fact]
    public async Task ExcludedColumnsNeverReachTheLake_HashedOnesArriveAsKeyedDigests_PatternsSelectTables()
    {
        await using var db = await TestDatabase.CreateAsync("pii");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.people (id int PRIMARY KEY, email text, ssn text, name text);
            CREATE TABLE {s}.orders (id int PRIMARY KEY, person int);
            CREATE TABLE {s}.audit (id int PRIMARY KEY, secret text);
            INSERT INTO {s}.people VALUES (1, 'a@example.com', '111-11-1111', 'Ann');
            """);
        var info = await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.*"], 2,
            ExcludeTables: [$"{s}.audit"],
            Columns: [new ColumnRule($"{s}.people", "email", ColumnAction.Hash), new ColumnRule($"{s}.people", "ssn", ColumnAction.Exclude)]));
        Assert.Equal([$"{s}.orders", $"{s}.people"], info.Tables.Order());

        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"INSERT INTO {s}.people VALUES (2, 'b@example.com', '222-22-2222', 'Bob'); UPDATE {s}.people SET email = 'a@example.com', ssn = '333' WHERE id = 2");
        var replay = await Eventually.MatchAsync(
            () => LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, $"{s}.people", ["id"], 2),
            r => r.Rows.Count == 2 && r.Changes == 2);

        var digest = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(PipelineCluster.HashKey), "a@example.com"u8));
        Assert.Equal(digest, replay.Rows["1"]["email"]);
        Assert.Equal(digest, replay.Rows["2"]["email"]);
        Assert.Equal("Bob", replay.Rows["2"]["name"]);
        Assert.All(replay.Rows.Values, r => Assert.False(r.ContainsKey("ssn")));

        var manifest = new Manifest(fixture.Lake, fixture.Layout);
        await foreach (var entry in manifest.ListTableAsync(s, $"{s}.people"))
        {
            var text = Encoding.UTF8.GetString(ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!).SelectMany(r => (r.Before?.Values ?? []).Concat(r.After?.Values ?? [])).Select(v => v ?? "").SelectMany(Encoding.UTF8.GetBytes).ToArray());
            Assert.DoesNotContain("example.com", text);
            Assert.DoesNotContain("111-11", text);
        }
        await foreach (var schema in manifest.ListSchemasAsync(s, $"{s}.people"))
        {
            Assert.Equal(["id:integer", "email:hmac-sha256", "name:text"], schema.Columns.Select(c => $"{c.Name}:{c.Type}"));
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task BadPatternsAndRules_AreRefusedNamingEach()
    {
        await using var db = await TestDatabase.CreateAsync("badrules");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v text)");
        var error = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(
            s, db.ConnectionString, [$"{s}.t", "nosuchschema.*"], 1,
            Columns: [new ColumnRule($"{s}.t", "id", ColumnAction.Exclude), new ColumnRule($"{s}.t", "nope", ColumnAction.Hash), new ColumnRule($"{s}.other", "v", ColumnAction.Hash)])));
        Assert.Contains("nosuchschema.* matches no tables", error.Problems);
        Assert.Contains($"column {s}.t.id is part of the primary key and cannot be excluded; hash it instead", error.Problems);
        Assert.Contains($"column rule for {s}.t.nope: the table has no such column", error.Problems);
        Assert.Contains($"column rule for {s}.other.v: {s}.other is not a captured table", error.Problems);
        Assert.Null(await fixture.Client.GetSourceAsync(s));
    }
}

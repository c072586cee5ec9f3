using Npgsql;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Tables added to a running source are snapshotted between watermarks while the stream keeps flowing.</summary>
[Collection(PipelineCollection.Name)]
public sealed class AddTableTests(PipelineCluster fixture)
{
    [Fact]
    public async Task AddedTable_WithConcurrentWrites_EndsIdenticalToTheTable_WhileTheStreamKeepsFlowing()
    {
        await using var db = await TestDatabase.CreateAsync("addtab");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.first (id int PRIMARY KEY, v text);
            CREATE TABLE {s}.big (id int PRIMARY KEY, payload text, n int);
            INSERT INTO {s}.big SELECT g, 'row ' || g, g FROM generate_series(1, 8000) g;
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.first"], 2));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);

        await using (var writer = new ConcurrentWriter(db, $"{s}.big", 8000))
        {
            var info = await fixture.Client.AddTablesAsync(s, [$"{s}.big"]);
            Assert.Contains($"{s}.big", info.Tables);
            Assert.True(info.Snapshot.Single(t => t.Table == $"{s}.big").ChunksTotal > 3);
            await db.ExecuteAsync($"INSERT INTO {s}.first SELECT g, 'during' FROM generate_series(1, 100) g");
            var done = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.Snapshot.Single(t => t.Table == $"{s}.big").Completed, TimeSpan.FromSeconds(90));
            Assert.True(done!.Snapshot.Single(t => t.Table == $"{s}.big").Completed);
            Assert.True(writer.Transactions > 0);
        }

        foreach (var (table, key) in new[] { ("big", new[] { "id" }), ("first", new[] { "id" }) })
        {
            await fixture.AssertLakeMatchesAsync(db, s, $"{s}.{table}", key, 2);
        }

        var again = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.AddTablesAsync(s, [$"{s}.big", $"{s}.absent"]));
        Assert.Contains($"table {s}.big is already captured by source '{s}'", again.Problems);
        var missing = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.AddTablesAsync(s, [$"{s}.absent"]));
        Assert.Contains($"table {s}.absent does not exist", missing.Problems);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task AddedTable_WaitsOnlyForTheTablesOwnOpenWriters_NotForTransactionsElsewhere()
    {
        await using var db = await TestDatabase.CreateAsync("addwait");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.first (id int PRIMARY KEY);
            CREATE TABLE {s}.other (id int PRIMARY KEY);
            CREATE TABLE {s}.big (id int PRIMARY KEY, payload text);
            INSERT INTO {s}.big SELECT g, 'row ' || g FROM generate_series(1, 3000) g;
            """);
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.first"], 2));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);

        // An idle session with a write elsewhere stays open throughout; a writer of the added table commits later.
        await using var elsewhere = new NpgsqlConnection(db.ConnectionString);
        await elsewhere.OpenAsync();
        await using var idle = await elsewhere.BeginTransactionAsync();
        await new NpgsqlCommand($"INSERT INTO {s}.other VALUES (1)", elsewhere, idle).ExecuteNonQueryAsync();
        await using var writer = new NpgsqlConnection(db.ConnectionString);
        await writer.OpenAsync();
        await using var open = await writer.BeginTransactionAsync();
        await new NpgsqlCommand($"UPDATE {s}.big SET payload = 'committed later' WHERE id = 7", writer, open).ExecuteNonQueryAsync();

        await fixture.Client.AddTablesAsync(s, [$"{s}.big"]);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var waiting = (await fixture.Client.GetSourceAsync(s))!.Snapshot.Single(t => t.Table == $"{s}.big");
        Assert.Equal(0, waiting.ChunksDone); // a chunk read now could miss the update if it committed just before

        await open.CommitAsync();
        var done = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.Snapshot.Single(t => t.Table == $"{s}.big").Completed, TimeSpan.FromSeconds(30));
        Assert.True(done!.Snapshot.Single(t => t.Table == $"{s}.big").Completed, "the snapshot waited for a transaction on another table");
        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.big", ["id"], 2);
        Assert.Equal("committed later", replay.Rows["7"]["payload"]);
        await idle.RollbackAsync();
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

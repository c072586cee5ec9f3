using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Pausing and resuming a PostgreSQL source against the real server: nothing read while paused, nothing lost after.</summary>
[Collection(PipelineCollection.Name)]
public sealed class PauseResumeTests(PipelineCluster fixture)
{
    [Fact]
    public async Task PausedSource_ReadsNothingKeepsItsSlot_ResumedItCapturesEveryChangeOnce()
    {
        await using var db = await TestDatabase.CreateAsync("pause");
        var s = db.Name;
        var table = $"{s}.t";
        await db.ExecuteAsync($"CREATE TABLE {table} (id int PRIMARY KEY, n int)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [table], 2, SnapshotMode.Never));
        await db.ExecuteAsync($"INSERT INTO {table} SELECT g, 0 FROM generate_series(1, 1000) g");
        await fixture.AssertLakeMatchesAsync(db, s, table, ["id"], 2);

        var paused = await fixture.Client.PauseSourceAsync(s);
        Assert.Equal(SourceState.Paused, paused!.State);
        Assert.Equal(SourceState.Paused, (await fixture.Client.PauseSourceAsync(s))!.State); // pausing again changes nothing
        var durable = paused.ChangesDurable;
        var slot = $"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'";
        var confirmed = (string)(await db.ScalarAsync(slot))!;
        // The position reported is at least the one the server holds (acknowledgements arriving after the reader
        // closed raise only the reported one), so never 0/0.
        Assert.True(NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(paused.ConfirmedLsn) >= NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(confirmed),
            $"reported {paused.ConfirmedLsn}, slot {confirmed}");

        await db.ExecuteAsync($"""
            INSERT INTO {table} SELECT g, 1 FROM generate_series(1001, 3000) g;
            UPDATE {table} SET n = n + 10 WHERE id % 3 = 0;
            DELETE FROM {table} WHERE id % 7 = 0;
            """);
        // Supervision (what a restarted silo runs) must not restart a paused source.
        await fixture.Cluster.Client.GetGrain<ISourceRegistryGrain>(0).EnsureRunningAsync();
        var whilePaused = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.RetainedWalBytes > 0, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var info = (await fixture.Client.GetSourceAsync(s))!;
        Assert.Equal(SourceState.Paused, info.State);
        Assert.Equal(durable, info.ChangesDurable);
        Assert.True(whilePaused!.RetainedWalBytes > 0, "a paused source's retained WAL is still reported");
        Assert.Equal(confirmed, (string)(await db.ScalarAsync(slot))!);
        Assert.Equal(false, await db.ScalarAsync($"SELECT active FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
        var lake = await LakeReplay.LoadAsync(fixture.Lake, fixture.Layout, s, table, ["id"], 2);
        Assert.Equal(1000, lake.Rows.Count);

        var resumed = await fixture.Client.ResumeSourceAsync(s);
        Assert.NotEqual(SourceState.Paused, resumed!.State);
        var replay = await fixture.AssertLakeMatchesAsync(db, s, table, ["id"], 2);
        Assert.Empty(replay.Problems); // each change once, in order per key
        // 2,000 inserts, 1,000 updates (id % 3 = 0) and 428 deletes (id % 7 = 0) of ids 1..3,000 since the pause.
        var running = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running && i.ChangesDurable - durable >= 3428);
        Assert.Equal(SourceState.Running, running!.State);
        Assert.Equal(3428, running.ChangesDurable - durable);

        var again = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.ResumeSourceAsync(s));
        Assert.Equal($"source '{s}' is not paused (it is Running)", again.Message);
        Assert.Null(await fixture.Client.PauseSourceAsync("no_such_source"));
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Heartbeats, lost connections and a slot dropped behind Saiki's back, against the real server.</summary>
[Collection(PipelineCollection.Name)]
public sealed class CaptureFaultTests(PipelineCluster fixture)
{
    [Fact]
    public async Task IdleSource_WhileOtherTablesAreBusy_HeartbeatAdvancesTheConfirmedLsn()
    {
        await using var db = await TestDatabase.CreateAsync("idle");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.captured (id int PRIMARY KEY); CREATE TABLE {s}.busy (id int PRIMARY KEY, v text)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.captured"], 1, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        var before = (string)(await db.ScalarAsync($"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"))!;

        await db.ExecuteAsync($"INSERT INTO {s}.busy SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
        var written = (string)(await db.ScalarAsync("SELECT pg_current_wal_lsn()::text"))!;
        var advanced = await Eventually.MatchAsync(
            () => db.ScalarAsync($"SELECT confirmed_flush_lsn >= '{written}'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"),
            v => v is true, TimeSpan.FromSeconds(30));
        Assert.True(advanced is true, $"confirmed_flush_lsn stayed below {written} (was {before} before the writes)");

        var info = await fixture.Client.GetSourceAsync(s);
        Assert.NotNull(info!.RetainedWalBytes);
        Assert.Equal(0, info.LagSeconds);
        Assert.Empty(info.Alerts);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task ConnectionKilledRepeatedlyMidWorkload_CaptureReconnectsAndTheLakeStaysExact()
    {
        await using var db = await TestDatabase.CreateAsync("cut");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, n int)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2, SnapshotMode.Never));
        for (var round = 0; round < 5; round++)
        {
            await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, {round} FROM generate_series({round * 1000 + 1}, {round * 1000 + 1000}) g ON CONFLICT (id) DO NOTHING; UPDATE {s}.t SET n = n + 1 WHERE id % 7 = {round};");
            // Cut the walsender: the same thing a network failure or server restart does to the stream.
            await Eventually.MatchAsync(
                () => db.ScalarAsync($"SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}' AND active_pid IS NOT NULL"),
                n => n is 1L, TimeSpan.FromSeconds(30));
        }
        await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 2);
        var info = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        Assert.Equal(SourceState.Running, info!.State);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task SlotDroppedOutsideSaiki_SourceFailsVisiblyWithTheReason()
    {
        await using var db = await TestDatabase.CreateAsync("dropped");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 1, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        // Terminate the reader and drop the slot before capture reconnects (an operator "cleaning up").
        await Eventually.MatchAsync(async () =>
            {
                await db.ExecuteAsync($"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}' AND active_pid IS NOT NULL");
                return await db.ScalarAsync($"SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}' AND NOT active");
            },
            n => n is 1L, TimeSpan.FromSeconds(30));

        var info = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Failed, TimeSpan.FromSeconds(30));
        Assert.Equal(SourceState.Failed, info!.State);
        Assert.Contains($"replication slot saiki_{s} no longer exists", info.Error);
        Assert.Contains("re-register", info.Error);
        // It stays failed: no silent re-creation of the slot, no new snapshot.
        await Task.Delay(2000);
        Assert.Equal(SourceState.Failed, (await fixture.Client.GetSourceAsync(s))!.State);
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task SlotInvalidatedByTheServer_WhileThePausedSourceFellBehind_SourceFailsVisiblyWithTheReason()
    {
        await using var db = await TestDatabase.CreateAsync("lostslot");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v text)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 1, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await fixture.Client.PauseSourceAsync(s);

        // The server protects itself from a consumer that stopped: past max_slot_wal_keep_size, a checkpoint
        // removes the WAL the slot still needs and invalidates it. The limit is set only for this step.
        var walStatus = $"SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'";
        try
        {
            await db.ExecuteAsync("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
            await db.ExecuteAsync("SELECT pg_reload_conf()");
            var lost = await Eventually.MatchAsync(async () =>
            {
                for (var segment = 0; segment < 3; segment++)
                {
                    await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, repeat('w', 200) FROM generate_series({segment * 1000 + 1}, {segment * 1000 + 1000}) g ON CONFLICT DO NOTHING");
                    await db.ExecuteAsync("SELECT pg_switch_wal()");
                }
                await db.ExecuteAsync("CHECKPOINT");
                return await db.ScalarAsync(walStatus);
            }, v => v is "lost", TimeSpan.FromSeconds(30));
            Assert.Equal("lost", lost);
        }
        finally
        {
            await db.ExecuteAsync("ALTER SYSTEM RESET max_slot_wal_keep_size");
            await db.ExecuteAsync("SELECT pg_reload_conf()");
        }

        var info = await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Failed, TimeSpan.FromSeconds(30));
        Assert.Equal(SourceState.Failed, info!.State);
        Assert.Contains($"replication slot saiki_{s} was invalidated by the server", info.Error);
        Assert.Contains("changes are missing", info.Error);
        // It stays failed (resuming is refused, nothing is re-snapshotted) until it is removed.
        var resume = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.ResumeSourceAsync(s));
        Assert.Contains("is not paused (it is Failed)", resume.Message);
        await Task.Delay(2000);
        Assert.Equal(SourceState.Failed, (await fixture.Client.GetSourceAsync(s))!.State);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Capture;

/// <summary>Starting and stopping the pgoutput reader against a real PostgreSQL: a stopped reader frees its slot.</summary>
public sealed class PostgresCaptureLifecycleTests
{
    [Fact]
    public async Task StoppedAtAnyMoment_TheReaderClosesItsConnection_AndTheSlotIsFreeForTheNextReaderOrADrop()
    {
        await using var db = await TestDatabase.CreateAsync("caplife");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        var spec = await PostgresSourceAdmin.ValidateAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 1));
        await PostgresSourceAdmin.CreatePublicationAndSlotAsync(spec);
        var active = $"SELECT active FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'";
        try
        {
            // Stopped at once (the stream not yet started), while the stream is being started (a status update sent
            // then failed inside Npgsql, and the connection was left open holding the slot), and after it delivered
            // a change: each time the slot must be released at once, as removing a source right after resuming needs.
            for (var round = 0; round < 40; round++)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var capture = new PostgresCapture(spec, new ColumnPolicy(null, null), NullLogger.Instance);
                await capture.StartAsync(timeout.Token);
                if (round % 10 == 9)
                {
                    await db.ExecuteAsync($"INSERT INTO {s}.t VALUES ({round})");
                    await capture.Items.ReadAsync(timeout.Token);
                }
                else if (round > 0)
                {
                    Thread.Sleep(round % 10);
                }
                await capture.DisposeAsync();
                var released = await Eventually.MatchAsync(() => db.ScalarAsync(active), a => Equals(a, false), TimeSpan.FromSeconds(3));
                Assert.True(Equals(released, false), $"round {round}: the slot is still active after the reader stopped");
            }

            // A reader refused the slot (another one still holds it, as after a pause whose walsender has not yet
            // exited) fails with the reason and stops cleanly; the first reader's stop then frees the slot.
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                var holder = new PostgresCapture(spec, new ColumnPolicy(null, null), NullLogger.Instance);
                await holder.StartAsync(timeout.Token);
                await Eventually.MatchAsync(() => db.ScalarAsync(active), a => Equals(a, true), TimeSpan.FromSeconds(10));
                var refused = new PostgresCapture(spec, new ColumnPolicy(null, null), NullLogger.Instance);
                await refused.StartAsync(timeout.Token);
                var error = await Assert.ThrowsAsync<ChannelClosedException>(async () => await refused.Items.ReadAsync(timeout.Token));
                Assert.Equal(Npgsql.PostgresErrorCodes.ObjectInUse, Assert.IsType<Npgsql.PostgresException>(error.InnerException).SqlState);
                await refused.DisposeAsync();
                await holder.DisposeAsync();
                var released = await Eventually.MatchAsync(() => db.ScalarAsync(active), a => Equals(a, false), TimeSpan.FromSeconds(3));
                Assert.True(Equals(released, false), "the slot is still active after both readers stopped");
            }
        }
        finally
        {
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(spec);
        }
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Capture;

/// <summary>The pgoutput reader against a real PostgreSQL: what each kind of change becomes.</summary>
public sealed class PgOutputMappingTests
{
    private const int Partitions = 3;

    [Fact]
    public async Task EachKindOfChange_BecomesARoutedChangeWithItsTransactionsCommitPosition()
    {
        await using var db = await TestDatabase.CreateAsync("pgout");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.full_t (id int PRIMARY KEY, v text);
            ALTER TABLE {s}.full_t REPLICA IDENTITY FULL;
            CREATE TABLE {s}.key_t (id int PRIMARY KEY, v text, n numeric(8,3));
            """);
        var spec = await PostgresSourceAdmin.ValidateAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.full_t", $"{s}.key_t"], Partitions));
        await PostgresSourceAdmin.CreatePublicationAndSlotAsync(spec);
        try
        {
            var items = new List<CaptureItem>();
            await using (var capture = new PostgresCapture(spec, new ColumnPolicy(null, null), NullLogger.Instance))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await capture.StartAsync(timeout.Token);
                await db.ExecuteAsync($"BEGIN; INSERT INTO {s}.full_t VALUES (1, 'a'), (2, NULL); COMMIT;");
                await db.ExecuteAsync($"UPDATE {s}.full_t SET v = 'c' WHERE id = 1");
                await db.ExecuteAsync($"UPDATE {s}.full_t SET id = 3 WHERE id = 2");
                await db.ExecuteAsync($"INSERT INTO {s}.key_t VALUES (7, 'x', 1.250)");
                await db.ExecuteAsync($"UPDATE {s}.key_t SET v = 'y' WHERE id = 7");
                await db.ExecuteAsync($"DELETE FROM {s}.key_t WHERE id = 7");
                await db.ExecuteAsync($"DELETE FROM {s}.full_t WHERE id = 1");
                await db.ExecuteAsync($"TRUNCATE {s}.full_t");
                while (items.OfType<CapturedCommit>().Count() < 8)
                {
                    items.Add(await capture.Items.ReadAsync(timeout.Token));
                }
            }
            var txs = SplitTransactions(items);
            Assert.Equal(8, txs.Count);
            Assert.True(txs.Zip(txs.Skip(1)).All(p => p.First.Commit.EndLsn < p.Second.Commit.EndLsn), "commits arrive in LSN order");

            // One transaction, two inserts: same commit LSN, sequence 0 and 1, routed by key.
            var (inserts, insertCommit) = txs[0];
            Assert.Equal([ChangeOperation.Insert, ChangeOperation.Insert], inserts.Select(c => c.Event.Operation));
            Assert.Equal(inserts[0].Event.Position.Commit, inserts[1].Event.Position.Commit);
            Assert.Equal([0u, 1u], inserts.Select(c => c.Event.Position.Sequence));
            Assert.True(inserts[0].Event.Position.Commit < insertCommit.EndLsn);
            Same(["1", "a"], inserts[0].Event.After);
            Same(["2", null], inserts[1].Event.After);
            Assert.Equal(KeyPartitioner.PartitionOf(["1"], Partitions), inserts[0].Partition.Partition);
            Assert.Equal(new PartitionAddress(s, $"{s}.full_t", KeyPartitioner.PartitionOf(["2"], Partitions)), inserts[1].Partition);
            Assert.Equal(insertCommit.CommitTime, inserts[0].Event.CommitTime);
            var schema = inserts[0].Schema;
            Assert.Equal([new ColumnSchema("id", "integer"), new ColumnSchema("v", "text")], schema.Columns);
            Assert.Equal([0], schema.KeyColumns);

            // REPLICA IDENTITY FULL: the old row comes with the update.
            var update = Assert.Single(txs[1].Changes).Event;
            Assert.Equal(ChangeOperation.Update, update.Operation);
            Same(["1", "a"], update.Before);
            Same(["1", "c"], update.After);

            // A key change becomes delete of the old key and insert of the new one.
            Assert.Equal([ChangeOperation.Delete, ChangeOperation.Insert], txs[2].Changes.Select(c => c.Event.Operation));
            Same(["2", null], txs[2].Changes[0].Event.Before);
            Same(["3", null], txs[2].Changes[1].Event.After);
            Assert.Equal(KeyPartitioner.PartitionOf(["3"], Partitions), txs[2].Changes[1].Partition.Partition);

            // Default identity: numeric keeps its text form; updates carry no old row; deletes carry the key.
            Same(["7", "x", "1.250"], Assert.Single(txs[3].Changes).Event.After);
            var keyUpdate = Assert.Single(txs[4].Changes).Event;
            Assert.Null(keyUpdate.Before);
            Same(["7", "y", "1.250"], keyUpdate.After);
            var keyDelete = Assert.Single(txs[5].Changes).Event;
            Assert.Equal(ChangeOperation.Delete, keyDelete.Operation);
            Assert.Equal("7", keyDelete.Before![0]);
            Assert.Null(keyDelete.After);

            var fullDelete = Assert.Single(txs[6].Changes).Event;
            Same(["1", "c"], fullDelete.Before);

            // A truncate reaches every partition of the table, at one position.
            var truncate = txs[7].Changes;
            Assert.Equal(Partitions, truncate.Count);
            Assert.All(truncate, c => Assert.Equal(ChangeOperation.Truncate, c.Event.Operation));
            Assert.Equal(Enumerable.Range(0, Partitions), truncate.Select(c => c.Partition.Partition).Order());
            Assert.Single(truncate.Select(c => c.Event.Position).Distinct());
        }
        finally
        {
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(spec);
        }
    }

    [Fact]
    public async Task AWatermark_IsPlacedAfterCommitsBeforeIt_AndBeforeACommitRecordThatFollowsItDirectly()
    {
        await using var db = await TestDatabase.CreateAsync("pgwm");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v text); INSERT INTO {s}.t VALUES (1, 'a')");
        var spec = await PostgresSourceAdmin.ValidateAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], Partitions));
        await PostgresSourceAdmin.CreatePublicationAndSlotAsync(spec);
        try
        {
            await using var capture = new PostgresCapture(spec, new ColumnPolicy(null, null), NullLogger.Instance);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await capture.StartAsync(timeout.Token);
            await using var writer = new NpgsqlConnection(db.ConnectionString);
            await writer.OpenAsync(timeout.Token);
            var directlyFollowed = 0;
            for (var round = 0; round < 20 && directlyFollowed < 3; round++)
            {
                // The update's record precedes the watermark and its commit record follows it: the transaction
                // commits after the watermark, so its change must be ordered after it.
                await db.ExecuteAsync($"UPDATE {s}.t SET v = 'before {round}' WHERE id = 1");
                await using (var tx = await writer.BeginTransactionAsync(timeout.Token))
                {
                    await using var update = new NpgsqlCommand($"UPDATE {s}.t SET v = 'after {round}' WHERE id = 1", writer, tx);
                    await update.ExecuteNonQueryAsync(timeout.Token);
                    var end = (NpgsqlLogSequenceNumber)(await db.ScalarAsync($"SELECT pg_logical_emit_message(false, '{PostgresNames.WatermarkPrefix}', 'high:w{round}')"))!;
                    await tx.CommitAsync(timeout.Token);

                    var items = new List<CaptureItem>();
                    // Other sources' heartbeats in this database may come along; they are left out.
                    while (items.OfType<CapturedCommit>().Count(c => !c.Heartbeat) < 2)
                    {
                        items.Add(await capture.Items.ReadAsync(timeout.Token));
                    }
                    var changes = items.OfType<CapturedChange>().ToList();
                    var watermark = Assert.Single(items.OfType<CapturedWatermark>(), w => w.Window == $"w{round}");
                    Assert.True(watermark.High);
                    Assert.Equal(["before " + round, "after " + round], changes.Select(c => c.Event.After![1]));
                    Assert.True(changes[0].Event.Position.Commit < watermark.Lsn, $"round {round}: the commit before the watermark is not before it");
                    Assert.True(watermark.Lsn < changes[1].Event.Position.Commit, $"round {round}: the commit after the watermark is not after it");
                    if (changes[1].Event.Position.Commit == (ulong)end)
                    {
                        directlyFollowed++;
                    }
                }
            }
            // Other sessions' WAL may come between the two records; most rounds it does not.
            Assert.True(directlyFollowed >= 3, $"the commit record directly followed the watermark in {directlyFollowed} of 20 rounds");
        }
        finally
        {
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(spec);
        }
    }

    private static void Same(string?[] expected, string?[]? actual) => Assert.Equal((IEnumerable<string?>)expected, actual);

    private static List<(List<CapturedChange> Changes, CapturedCommit Commit)> SplitTransactions(List<CaptureItem> items)
    {
        var result = new List<(List<CapturedChange>, CapturedCommit)>();
        var open = new List<CapturedChange>();
        foreach (var item in items)
        {
            if (item is CapturedCommit commit)
            {
                result.Add((open, commit));
                open = [];
            }
            else
            {
                open.Add((CapturedChange)item);
            }
        }
        return result;
    }
}

using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The benchmark's data, generated inside PostgreSQL (generate_series) so that producing it is fast and the client
/// is not what is measured.
/// </summary>
internal static class Workloads
{
    public const string StreamTable = "bench.stream_t";
    public const string SnapshotTable = "bench.snap_t";
    public const string LatencyTable = "bench.lat_t";

    public static string CreateTableSql(string table, string idType) =>
        $"CREATE TABLE IF NOT EXISTS {table} (id {idType} PRIMARY KEY, payload text, n int, ts timestamptz)";

    /// <summary>
    /// <paramref name="rows"/> row changes to <paramref name="table"/>: the first half inserts new rows, the second half updates them. Returns
    /// the WAL position after the last commit, which a reader must pass to have seen every change.
    /// </summary>
    public static async Task<string> StreamAsync(BenchDatabase db, string table, int rows, int transactionRows, CancellationToken ct)
    {
        var inserts = rows / 2;
        var updates = rows - inserts;
        await using var conn = await db.OpenAsync(ct);
        // The server runs with synchronous_commit=off; on here, each commit's WAL is written before it returns, so
        // the position read afterwards lies at or after the last commit record and a reader reaching it has it all.
        await using (var sync = new NpgsqlCommand("SET synchronous_commit = on", conn))
        {
            await sync.ExecuteNonQueryAsync(ct);
        }
        var clock = Stopwatch.StartNew();
        var insert = $"INSERT INTO {table} SELECT g, md5(g::text), g % 1000, now() FROM generate_series({{0}}, {{1}}) g";
        var update = $"UPDATE {table} SET n = n + 1, payload = md5(payload), ts = now() WHERE id BETWEEN {{0}} AND {{1}}";
        await RunInTransactionsAsync(conn, insert, inserts, transactionRows, ct);
        await RunInTransactionsAsync(conn, update, updates, transactionRows, ct);
        var lsn = await BenchDatabase.CurrentWalLsnAsync(conn, ct);
        Log.Info($"workload: {inserts:N0} inserts + {updates:N0} updates in {clock.Elapsed.TotalSeconds:F1} s{(transactionRows > 0 ? $" ({transactionRows:N0} rows per transaction)" : "")}, WAL at {lsn}");
        return lsn;
    }

    /// <summary>Runs <paramref name="sqlTemplate"/> over ids 1..<paramref name="count"/>: one statement, or a server-side loop committing every <paramref name="transactionRows"/>.</summary>
    private static async Task RunInTransactionsAsync(NpgsqlConnection conn, string sqlTemplate, int count, int transactionRows, CancellationToken ct)
    {
        string sql;
        if (transactionRows <= 0 || transactionRows >= count)
        {
            sql = string.Format(CultureInfo.InvariantCulture, sqlTemplate, 1, count);
        }
        else
        {
            // A DO block may COMMIT when it is not inside a transaction block, so the loop stays on the server.
            var body = string.Format(CultureInfo.InvariantCulture, sqlTemplate, "lo", $"least(lo + {transactionRows - 1}, {count})");
            sql = $"DO $$ DECLARE lo int; BEGIN FOR lo IN SELECT generate_series(1, {count}, {transactionRows}) LOOP {body}; COMMIT; END LOOP; END $$";
        }
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Creates and fills the snapshot table; the key and statistics come after the rows, which is much faster.</summary>
    public static async Task CreateSnapshotTableAsync(BenchDatabase db, int rows, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await db.ExecuteAsync($"""
            DROP TABLE IF EXISTS {SnapshotTable};
            CREATE TABLE {SnapshotTable} (id bigint NOT NULL, payload text, n int, ts timestamptz);
            INSERT INTO {SnapshotTable} SELECT g, md5(g::text), (g % 1000)::int, now() FROM generate_series(1, {rows}) g;
            ALTER TABLE {SnapshotTable} ADD PRIMARY KEY (id);
            """, ct);
        // VACUUM sets hint bits and the visibility map now, so neither reader below pays for that on its first pass.
        await db.ExecuteAsync($"VACUUM (ANALYZE) {SnapshotTable}", ct);
        Log.Info($"snapshot table {SnapshotTable}: {rows:N0} rows ({await db.ScalarAsync<string>($"SELECT pg_size_pretty(pg_table_size('{SnapshotTable}'))", ct)}) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Inserts <paramref name="rowsPerSecond"/> rows a second: every 20 ms one single-statement transaction with 20 ms
    /// worth of rows, scheduled against the wall clock so that a late tick is caught up, not skipped. Returns the rows inserted.
    /// </summary>
    public static async Task<long> SteadyInsertsAsync(BenchDatabase db, int rowsPerSecond, TimeSpan duration, Action<long> progress, CancellationToken ct)
    {
        var tick = TimeSpan.FromMilliseconds(20);
        var perTick = Math.Max(1, (int)Math.Round(rowsPerSecond * tick.TotalSeconds));
        var ticks = (long)(duration / tick);
        await using var conn = await db.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"INSERT INTO {LatencyTable} SELECT g, md5(g::text), g % 1000, now() FROM generate_series($1, $2) g", conn);
        var from = new NpgsqlParameter<int> { TypedValue = 0 };
        var to = new NpgsqlParameter<int> { TypedValue = 0 };
        cmd.Parameters.Add(from);
        cmd.Parameters.Add(to);
        await cmd.PrepareAsync(ct);
        var clock = Stopwatch.StartNew();
        long inserted = 0;
        for (long k = 0; k < ticks; k++)
        {
            var wait = tick * k - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, ct);
            }
            from.TypedValue = (int)(inserted + 1);
            to.TypedValue = (int)(inserted + perTick);
            inserted += await cmd.ExecuteNonQueryAsync(ct);
            progress(inserted);
        }
        return inserted;
    }
}

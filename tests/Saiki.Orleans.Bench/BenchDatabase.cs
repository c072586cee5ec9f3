using Npgsql;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The benchmark's objects in the source database: schema <c>bench</c>, the baseline's slot and publication, and
/// the slots and publications of the benchmark's Saiki sources. Everything is named so that cleaning up can never
/// touch anything else on a server that tests may be using at the same time.
/// </summary>
internal sealed class BenchDatabase(string connectionString)
{
    public const string Schema = "bench";
    public const string RecvSlot = "bench_recv";
    public const string RecvPublication = "bench_pub";
    public static readonly string[] SourceIds = ["bench_stream", "bench_latency", "bench_snapshot"];

    // The 5M-row fill and COPY run far past Npgsql's default 30 s command timeout.
    public string ConnectionString { get; } = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(ct);
        return conn;
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Drops what an earlier run (or this one) left: slots (ending whoever still streams from them), publications
    /// and the schema. Safe to call twice.
    /// </summary>
    public async Task CleanAsync(CancellationToken ct)
    {
        await DropSlotsAsync(SourceIds.Select(id => "saiki_" + id).Append(RecvSlot).ToArray(), ct);
        var publications = string.Join(", ", SourceIds.Select(id => "saiki_" + id).Append(RecvPublication));
        await ExecuteAsync($"DROP PUBLICATION IF EXISTS {publications}; DROP SCHEMA IF EXISTS {Schema} CASCADE;", ct);
    }

    /// <summary>Drops one of the benchmark's slots, ending its client if it still has one.</summary>
    public Task CleanSlotAsync(string slot, CancellationToken ct) => DropSlotsAsync([slot], ct);

    private async Task DropSlotsAsync(string[] slots, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        async Task<long> CountAsync(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = slots });
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        for (var attempt = 0; ; attempt++)
        {
            await CountAsync("SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = ANY($1) AND active_pid IS NOT NULL");
            await CountAsync("SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = ANY($1) AND NOT active");
            if (await CountAsync("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ANY($1)") == 0)
            {
                return;
            }
            if (attempt == 50)
            {
                throw new InvalidOperationException($"replication slots {string.Join(", ", slots)} are still in use after 10 s");
            }
            // A terminated walsender releases its slot a moment later.
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Current WAL write position as text (e.g. <c>0/1A2B3C</c>).</summary>
    public static async Task<string> CurrentWalLsnAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", conn);
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The slot's confirmed_flush_lsn, whether it has reached <paramref name="target"/>, and whether its walsender has
    /// sent that far (the client then has the data, but reports it only with its next status update).
    /// </summary>
    public static async Task<(string? Confirmed, bool Reached, bool Sent)> SlotProgressAsync(NpgsqlConnection conn, string slot, string target, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT s.confirmed_flush_lsn::text, coalesce(s.confirmed_flush_lsn >= $2::pg_lsn, false), coalesce(r.sent_lsn >= $2::pg_lsn, false)
            FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
            WHERE s.slot_name = $1
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = slot });
        cmd.Parameters.Add(new NpgsqlParameter { Value = target });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2))
            : (null, false, false);
    }

    /// <summary>The connection as a libpq conninfo string without the password, for pg_recvlogical.</summary>
    public string LibpqConnInfo()
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        static string Quote(string v) => "'" + v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
        var parts = new List<string> { $"host={Quote(b.Host ?? "localhost")}", $"port={b.Port}", $"dbname={Quote(b.Database ?? "postgres")}" };
        if (!string.IsNullOrEmpty(b.Username))
        {
            parts.Add($"user={Quote(b.Username)}");
        }
        return string.Join(' ', parts);
    }

    /// <summary>The password, for PGPASSWORD: kept out of the command line, where any user could read it.</summary>
    public string? Password => new NpgsqlConnectionStringBuilder(ConnectionString).Password;
}

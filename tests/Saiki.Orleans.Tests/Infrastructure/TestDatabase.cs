using Npgsql;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>A schema of its own in the test PostgreSQL for one test, dropped (with any slot and publication named after it) at the end.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name) => Name = name;

    /// <summary>Schema name, also used as the source id.</summary>
    public string Name { get; }

    public string ConnectionString => TestEnvironment.PostgresConnection;

    public static Task<TestDatabase> CreateAsync(string prefix) =>
        CreateNamedAsync($"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 9, 40)].ToLowerInvariant());

    /// <summary>A schema of a name chosen beforehand (e.g. one a cluster's settings refer to).</summary>
    public static async Task<TestDatabase> CreateNamedAsync(string name)
    {
        var db = new TestDatabase(name);
        await db.ExecuteAsync($"CREATE SCHEMA {db.Name}");
        return db;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>
    /// Every row of a table, all columns in their type's output form (what COPY and pgoutput send; for boolean that
    /// is t/f, where a ::text cast would say true/false), keyed by the primary key columns joined with '|'.
    /// </summary>
    public async Task<Dictionary<string, Dictionary<string, string?>>> ReadTableAsync(string table, IReadOnlyList<string> keyColumns)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        var (schema, name) = table.Split('.') is [var s, var n] ? (s, n) : throw new ArgumentException(table);
        var columns = new List<string>();
        var booleans = new HashSet<string>();
        await using (var cmd = new NpgsqlCommand("SELECT attname, atttypid = 'bool'::regtype FROM pg_attribute WHERE attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", conn))
        {
            cmd.Parameters.AddWithValue(schema);
            cmd.Parameters.AddWithValue(name);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                columns.Add(r.GetString(0));
                if (r.GetBoolean(1))
                {
                    booleans.Add(r.GetString(0));
                }
            }
        }
        var rows = new Dictionary<string, Dictionary<string, string?>>();
        var select = string.Join(", ", columns.Select(c => booleans.Contains(c)
            ? $"CASE WHEN \"{c}\" THEN 't' WHEN NOT \"{c}\" THEN 'f' END"
            : $"\"{c}\"::text"));
        await using (var cmd = new NpgsqlCommand($"SELECT {select} FROM {table}", conn))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                var row = new Dictionary<string, string?>();
                for (var i = 0; i < columns.Count; i++)
                {
                    row[columns[i]] = r.IsDBNull(i) ? null : r.GetString(i);
                }
                rows[string.Join("|", keyColumns.Select(k => row[k]))] = row;
            }
        }
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        var slot = $"saiki_{Name}";
        await ExecuteAsync($"""
            SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{slot}' AND NOT active;
            DROP PUBLICATION IF EXISTS {slot};
            DROP SCHEMA IF EXISTS {Name} CASCADE;
            """);
    }
}

using Npgsql;

namespace Saiki.Orleans.Silo.Demo;

/// <summary>
/// A small "orders" service: customers place orders, pay them, and some orders are cancelled (deleted).
/// Generates a steady mix of inserts, updates and deletes in short transactions.
/// </summary>
internal static class DemoWorkload
{
    public static readonly string[] Tables = ["shop.customers", "shop.orders", "shop.payments"];

    /// <summary>Recreates the demo schema (empty tables).</summary>
    public static async Task ResetSchemaAsync(string connectionString, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            DROP SCHEMA IF EXISTS shop CASCADE;
            CREATE SCHEMA shop;
            CREATE TABLE shop.customers (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE shop.payments (id bigint PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2) NOT NULL, paid_at timestamptz NOT NULL DEFAULT now());
            ALTER TABLE shop.orders REPLICA IDENTITY FULL;
            """, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs about <paramref name="changesPerSecond"/> row changes per second until cancelled; returns how many it made.</summary>
    public static async Task<long> RunAsync(string connectionString, int changesPerSecond, Action<long> progress, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        var nextId = await NextIdAsync(conn, ct);
        var random = new Random(42);
        var tick = TimeSpan.FromMilliseconds(50);
        var perTick = Math.Max(1, changesPerSecond / 20);
        long changes = 0;
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await using var batch = new NpgsqlBatch(conn);
                for (var planned = 0; planned < perTick; planned += 4)
                {
                    var id = nextId++;
                    batch.BatchCommands.Add(Command("INSERT INTO shop.customers (id, name, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                        id / 10, $"customer {id / 10}", $"c{id / 10}@example.com"));
                    batch.BatchCommands.Add(Command("INSERT INTO shop.orders (id, customer_id, status, amount) VALUES ($1, $2, 'created', $3)",
                        id, id / 10, Math.Round((decimal)(random.NextDouble() * 500), 2)));
                    // Pay most recent orders, cancel a few older ones.
                    var paid = Math.Max(1, id - random.Next(1, 50));
                    batch.BatchCommands.Add(Command("UPDATE shop.orders SET status = 'paid', updated_at = now() WHERE id = $1 AND status = 'created'", paid));
                    batch.BatchCommands.Add(Command("INSERT INTO shop.payments (id, order_id, amount) SELECT $1, id, amount FROM shop.orders WHERE id = $2 AND status = 'paid' ON CONFLICT (id) DO NOTHING", paid, paid));
                    if (random.Next(10) == 0)
                    {
                        batch.BatchCommands.Add(Command("DELETE FROM shop.orders WHERE id = $1 AND status = 'created'", Math.Max(1, id - random.Next(50, 500))));
                    }
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                batch.Transaction = tx;
                // Rows affected = row changes the capture will see (conditional updates and inserts may touch none).
                changes += await batch.ExecuteNonQueryAsync(ct);
                await tx.CommitAsync(ct);
                progress(changes);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return changes;
    }

    private static async Task<long> NextIdAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT coalesce(max(id), 0) + 1 FROM shop.orders", conn);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] args)
    {
        var c = new NpgsqlBatchCommand(sql);
        foreach (var a in args)
        {
            c.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        return c;
    }
}

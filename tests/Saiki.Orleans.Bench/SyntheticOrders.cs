using System.Globalization;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Bench;

/// <summary>One table partition's changes, cut into the runs its partition grain would write as files.</summary>
internal sealed record PartitionFiles(PartitionAddress Address, IReadOnlyList<List<(TableSchema Schema, ChangeEvent Event)>> Files)
{
    public int Rows => Files.Sum(f => f.Count);
}

/// <summary>
/// Captured changes of an orders-like table, made in memory so that the downstream benchmark measures writing
/// them, not reading PostgreSQL: the first half of the changes insert rows, the second half update them (no old
/// row, as with the default replica identity), 100 changes per transaction. They are routed to partitions with the
/// source's own <see cref="KeyPartitioner"/> and cut into files the way a partition grain cuts its buffer.
/// </summary>
internal static class SyntheticOrders
{
    public const string Source = "bench";
    public const string Table = "public.orders";
    private const int TransactionRows = 100;

    private static readonly string[] Statuses = ["new", "paid", "packed", "shipped", "delivered", "cancelled"];
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static readonly TableSchema Schema = new(Table,
        [
            new ColumnSchema("id", "int8"),
            new ColumnSchema("customer_id", "int8"),
            new ColumnSchema("status", "text"),
            new ColumnSchema("amount", "numeric"),
            new ColumnSchema("created_at", "timestamptz"),
            new ColumnSchema("note", "text"),
        ],
        [0]);

    public static IReadOnlyList<PartitionFiles> Generate(int rows, int partitions, int fileRows)
    {
        var inserts = rows / 2;
        var inserted = new string?[inserts][];
        var perPartition = Enumerable.Range(0, partitions).Select(_ => new List<(TableSchema, ChangeEvent)>(rows / partitions + 1)).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var txn = i / TransactionRows;
            // Commit LSNs a realistic distance apart; the sequence is the change's index inside its transaction.
            var position = new Position(0x1_0000_0000UL + (ulong)txn * 0x6000, (uint)(i % TransactionRows));
            var commitTime = Start.AddMilliseconds(txn * 2.5);
            ChangeEvent change;
            if (i < inserts)
            {
                var id = i + 1L;
                var row = new[]
                {
                    id.ToString(CultureInfo.InvariantCulture),
                    (Mix((ulong)id) % 200_000).ToString(CultureInfo.InvariantCulture),
                    Statuses[0],
                    Money(Mix((ulong)id * 31)),
                    Timestamp(commitTime),
                    Note((ulong)id),
                };
                inserted[i] = row;
                change = new ChangeEvent(ChangeOperation.Insert, position, commitTime, null, row);
            }
            else
            {
                var before = inserted[i - inserts];
                // An update changes status and amount; the untouched values are the same strings, as they would be
                // after decoding, which keeps the generated data small in memory.
                var row = (string?[])before.Clone();
                row[2] = Statuses[1 + (i % (Statuses.Length - 1))];
                row[3] = Money(Mix((ulong)i * 17));
                change = new ChangeEvent(ChangeOperation.Update, position, commitTime, null, row);
            }
            var partition = KeyPartitioner.PartitionOf(Schema.KeyOf(change.KeyImage!), partitions);
            perPartition[partition].Add((Schema, change));
        }
        return perPartition
            .Select((changes, p) => new PartitionFiles(new PartitionAddress(Source, Table, p), changes.Chunk(fileRows).Select(c => c.ToList()).ToArray()))
            .ToArray();
    }

    private static string Money(ulong seed) => ((seed % 5_000_000) / 100m).ToString("F2", CultureInfo.InvariantCulture);

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";

    /// <summary>A free-text column that compresses about as badly as real notes with ids in them (md5-like hex).</summary>
    private static string Note(ulong id) => $"ref {Mix(id):x16}{Mix(id ^ 0x9E3779B97F4A7C15):x16}";

    /// <summary>SplitMix64: cheap, stable pseudo-random values from the row id.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}

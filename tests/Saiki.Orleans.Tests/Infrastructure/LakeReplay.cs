using Saiki.Orleans.Capture;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// Rebuilds a table from the lake the way a warehouse would: the manifest lists the files, each partition's changes
/// are applied in position order. Also checks the lake's invariants on the way.
/// </summary>
public sealed class LakeReplay
{
    public required Dictionary<string, Dictionary<string, string?>> Rows { get; init; }
    public required int Files { get; init; }
    public required long Changes { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }
    public required long SnapshotRows { get; init; }

    /// <summary>
    /// Snapshot chunk files (partition -1) come first: their rows are routed to the partition their key hashes
    /// to, and that partition's changes are applied on top in position order.
    /// </summary>
    public static async Task<LakeReplay> LoadAsync(ILakeStore store, LakeLayout layout, string sourceId, string table, IReadOnlyList<string> keyColumns, int partitions)
    {
        var problems = new List<string>();
        long snapshotRows = 0;
        var entries = new List<ManifestEntry>();
        await foreach (var e in new Manifest(store, layout).ListTableAsync(sourceId, table))
        {
            entries.Add(e);
        }
        var rows = new Dictionary<string, Dictionary<string, string?>>();
        long changes = 0;
        var snapshot = new List<LakeRecord>[partitions];
        for (var p = 0; p < partitions; p++)
        {
            snapshot[p] = [];
        }
        foreach (var entry in entries.Where(e => e.Partition == -1).OrderBy(e => e.First))
        {
            foreach (var r in ChangeFile.Read(await store.GetAsync(entry.Key) ?? throw new InvalidOperationException($"manifest lists {entry.Key} but it is missing")))
            {
                snapshot[KeyPartitioner.PartitionOf(keyColumns.Select(k => r.Key![k]).ToArray(), partitions)].Add(r);
                snapshotRows++;
            }
        }
        for (var p = 0; p < partitions; p++)
        {
            var state = new Dictionary<string, Dictionary<string, string?>>();
            var stream = new List<LakeRecord>();
            var last = Saiki.Orleans.Changes.Position.Zero;
            foreach (var entry in entries.Where(e => e.Partition == p).OrderBy(e => e.First))
            {
                if (entry.First <= last)
                {
                    problems.Add($"partition {p}: file {entry.Key} starts at {entry.First}, not after {last}");
                }
                var bytes = await store.GetAsync(entry.Key) ?? throw new InvalidOperationException($"manifest lists {entry.Key} but it is missing");
                var records = ChangeFile.Read(bytes);
                if (records.Count != entry.Rows)
                {
                    problems.Add($"{entry.Key}: manifest says {entry.Rows} rows, file has {records.Count}");
                }
                foreach (var r in records)
                {
                    if (r.Position <= last)
                    {
                        problems.Add($"partition {p}: {r.Position} after {last} (duplicate or out of order)");
                    }
                    last = r.Position;
                    changes++;
                    stream.Add(r);
                }
            }
            // Snapshot rows take their place by position: before the stream (the initial snapshot), or after the
            // truncate that starts a re-snapshot. After a resumed snapshot a row can sit in two chunks; the later
            // chunk (higher position) wins, and the stream decides.
            foreach (var r in snapshot[p].Concat(stream).OrderBy(r => r.Position))
            {
                switch (r.Op)
                {
                    case "t":
                        state.Clear();
                        break;
                    case "d":
                        state.Remove(KeyOf(r.Key!, keyColumns));
                        break;
                    default:
                        var key = KeyOf(r.Key!, keyColumns);
                        var row = r.After!.ToDictionary(kv => kv.Key, kv => kv.Value);
                        foreach (var column in r.Unchanged ?? [])
                        {
                            row[column] = state.TryGetValue(key, out var previous) ? previous[column] : throw new InvalidOperationException($"{r.Position}: {column} unchanged but no earlier value");
                        }
                        state[key] = row;
                        break;
                }
            }
            foreach (var (k, v) in state)
            {
                rows[k] = v;
            }
        }
        return new LakeReplay { Rows = rows, Files = entries.Count, Changes = changes, Problems = problems, SnapshotRows = snapshotRows };
    }

    private static string KeyOf(IReadOnlyDictionary<string, string?> key, IReadOnlyList<string> keyColumns) =>
        string.Join("|", keyColumns.Select(k => key[k]));

    /// <summary>Differences between the replay and the table, at most a few, for assertion messages.</summary>
    public static IReadOnlyList<string> Compare(Dictionary<string, Dictionary<string, string?>> expected, Dictionary<string, Dictionary<string, string?>> actual)
    {
        var diffs = new List<string>();
        foreach (var (k, row) in expected)
        {
            if (!actual.TryGetValue(k, out var got))
            {
                diffs.Add($"row {k} missing from the lake");
            }
            // A column the lake row lacks (added after the row's last change) reads as NULL, as in a warehouse.
            else if (row.Keys.Union(got.Keys).Where(c => row.GetValueOrDefault(c) != got.GetValueOrDefault(c)).ToArray() is { Length: > 0 } columns)
            {
                diffs.Add($"row {k}: " + string.Join("; ", columns.Select(c => $"{c}: table '{row.GetValueOrDefault(c)}' lake '{got.GetValueOrDefault(c)}'")));
            }
        }
        diffs.AddRange(actual.Keys.Except(expected.Keys).Select(k => $"row {k} in the lake but not in the table"));
        return diffs.Take(10).ToArray();
    }
}

using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// The live rows of one lake partition's keys, for the mirror table: key → the data file and row that hold its
/// current version. Changelog files are applied in position order; each row makes the row it supersedes dead
/// (an update or snapshot row replaces, a delete removes, a truncate removes every live row), and a row that is not
/// live itself (a delete or truncate) is dead at once. What becomes dead is a position delete of the mirror table.
/// Memory is one entry per live key: the key's text plus about 40 bytes (file keys are shared, not copied), so a
/// partition holding 1,000,000 live keys of 20 bytes uses roughly 100 MB; a silo serves tables as large as its
/// partitions' live keys fit (see the README). It is rebuilt from the table's own files, so it is never persisted.
/// </summary>
public sealed class MirrorIndex
{
    private readonly Dictionary<string, (string File, long Row)> _live = new(StringComparer.Ordinal);

    /// <summary>Live keys.</summary>
    public int Count => _live.Count;

    /// <summary>
    /// Applies one file's rows (in row order) and appends the rows that became dead to <paramref name="dead"/>; the
    /// returned undo log restores the index if the file is not written after all.
    /// </summary>
    /// <param name="file">The file's key.</param>
    /// <param name="rows">Each row's operation code and key (null for a truncate).</param>
    /// <param name="owns">Whether a key belongs to this partition (snapshot files hold every partition's keys).</param>
    /// <param name="dead">Receives (file key, row) of every row that is no longer live.</param>
    public List<(string Key, (string File, long Row)? Before)> Apply(string file, IReadOnlyList<(string Op, string? Key)> rows, Func<string, bool> owns, List<RowRef> dead)
    {
        var undo = new List<(string, (string, long)?)>();
        for (var row = 0; row < rows.Count; row++)
        {
            var (op, key) = rows[row];
            if (op == "t")
            {
                foreach (var (k, live) in _live)
                {
                    undo.Add((k, live));
                    dead.Add(new RowRef(live.File, live.Row));
                }
                _live.Clear();
                dead.Add(new RowRef(file, row));
                continue;
            }
            if (key is null || !owns(key))
            {
                continue;
            }
            var had = _live.TryGetValue(key, out var previous);
            undo.Add((key, had ? previous : null));
            if (had)
            {
                dead.Add(new RowRef(previous.File, previous.Row));
            }
            if (op == "d")
            {
                _live.Remove(key);
                dead.Add(new RowRef(file, row));
            }
            else
            {
                _live[key] = (file, row);
            }
        }
        return undo;
    }

    /// <summary>Takes back an <see cref="Apply"/>, newest first.</summary>
    public void Undo(List<(string Key, (string File, long Row)? Before)> undo)
    {
        for (var i = undo.Count - 1; i >= 0; i--)
        {
            var (key, before) = undo[i];
            if (before is { } entry)
            {
                _live[key] = entry;
            }
            else
            {
                _live.Remove(key);
            }
        }
    }

    /// <summary>
    /// The rows of a file that holds the rows of <paramref name="offsets"/>' files one after another (a compacted file of
    /// <paramref name="rows"/> rows: row r of file f is its row offsets[f] + r) that would hold no live key: the compacted
    /// file's position deletes. Changes nothing; <see cref="Move"/> does, once the file is recorded.
    /// </summary>
    public List<RowRef> DeadRows(IReadOnlyDictionary<string, long> offsets, string target, long rows)
    {
        var live = new bool[rows];
        foreach (var (file, row) in _live.Values)
        {
            if (offsets.TryGetValue(file, out var offset))
            {
                live[offset + row] = true;
            }
        }
        var dead = new List<RowRef>();
        for (var row = 0L; row < rows; row++)
        {
            if (!live[row])
            {
                dead.Add(new RowRef(target, row));
            }
        }
        return dead;
    }

    /// <summary>Points the live keys of <paramref name="offsets"/>' files at their rows in <paramref name="target"/> (see <see cref="DeadRows"/>).</summary>
    public void Move(IReadOnlyDictionary<string, long> offsets, string target)
    {
        foreach (var key in _live.Keys)
        {
            // In place: the dictionary's shape does not change, so enumerating it stays valid.
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_live, key);
            if (offsets.TryGetValue(entry.File, out var offset))
            {
                entry = (target, offset + entry.Row);
            }
        }
    }

    /// <summary>Forgets everything (before a rebuild).</summary>
    public void Clear() => _live.Clear();
}

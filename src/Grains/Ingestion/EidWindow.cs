namespace Saiki.Orleans.Ingestion;

/// <summary>The most recent event ids (bounded; the oldest are forgotten first), to drop duplicates.</summary>
public sealed class EidWindow(int capacity)
{
    private readonly HashSet<string> _set = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>Ids remembered.</summary>
    public int Count => _set.Count;

    /// <summary>True when the id is remembered.</summary>
    public bool Contains(string eid) => _set.Contains(eid);

    /// <summary>Remembers an id; false when it was remembered already.</summary>
    public bool Add(string eid)
    {
        if (!_set.Add(eid))
        {
            return false;
        }
        _order.Enqueue(eid);
        while (_order.Count > capacity)
        {
            _set.Remove(_order.Dequeue());
        }
        return true;
    }

    /// <summary>The ids oldest first, leaving out <paramref name="except"/> (for storage).</summary>
    public List<string> Save(IReadOnlySet<string>? except = null) => _order.Where(e => except is null || !except.Contains(e)).ToList();

    /// <summary>Restores saved ids.</summary>
    public void Load(IEnumerable<string> eids)
    {
        foreach (var eid in eids)
        {
            Add(eid);
        }
    }
}

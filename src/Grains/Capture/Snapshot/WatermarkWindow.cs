using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Capture.Snapshot;

/// <summary>
/// One chunk of an incremental snapshot (Netflix's DBLog): a low watermark is written to the log, the chunk is
/// selected, a high watermark is written. Log changes to the chunk's rows between the two watermarks win: those
/// rows are dropped from the chunk, and the rest are emitted into the log at the high watermark, so a table added
/// to a running source is snapshotted without pausing the stream and without a lock.
/// </summary>
public sealed class WatermarkWindow(int chunk, string table)
{
    private readonly HashSet<string> _changedKeys = new(StringComparer.Ordinal);
    private bool _open;

    /// <summary>The chunk this window belongs to.</summary>
    public int Chunk { get; } = chunk;

    /// <summary>
    /// Names this read of the chunk in its watermarks: the log may still hold watermarks of an earlier read of the
    /// same chunk (one that failed, or ran before a restart), which must not open or close this one.
    /// </summary>
    public string Id { get; } = $"{chunk}.{Guid.NewGuid():N}";

    /// <summary>The chunk's table.</summary>
    public string Table { get; } = table;

    /// <summary>The selected rows (projected), once the select has finished.</summary>
    public IReadOnlyList<string?[]>? Rows { get; set; }

    /// <summary>Schema of <see cref="Rows"/>.</summary>
    public TableSchema? Schema { get; set; }

    /// <summary>The low watermark arrived in the log.</summary>
    public void Opened() => _open = true;

    /// <summary>A change arrived in the log; between the watermarks, changes to the chunk's table are remembered.</summary>
    public void Observe(CapturedChange change)
    {
        if (_open && change.Schema.Table == Table && change.Event.KeyImage is { } row)
        {
            _changedKeys.Add(KeyText(change.Schema.KeyOf(row)));
        }
        if (_open && change.Schema.Table == Table && change.Event.Operation == ChangeOperation.Truncate)
        {
            Rows = [];
        }
    }

    /// <summary>At the high watermark: the chunk's rows that the log did not change meanwhile.</summary>
    public IEnumerable<string?[]> Closed()
    {
        _open = false;
        return (Rows ?? []).Where(r => !_changedKeys.Contains(KeyText(Schema!.KeyOf(r))));
    }

    private static string KeyText(string?[] key) => string.Join('\u0001', key.Select(k => k ?? "\u0000"));
}

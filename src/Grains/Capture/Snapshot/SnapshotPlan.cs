using Orleans;

namespace Saiki.Orleans.Capture.Snapshot;

/// <summary>
/// The initial snapshot of a source: the slot's consistent point and the tables cut into page (CTID) ranges.
/// Kept in the source's state, so a restarted source continues with the chunks not yet durable.
/// </summary>
[GenerateSerializer, Alias("saiki.snapshot-plan")]
public sealed class SnapshotPlan
{
    /// <summary>The slot's consistent point: the snapshot shows exactly the transactions committed before it.</summary>
    [Id(0)] public ulong ConsistentPoint { get; set; }
    /// <summary>The chunks, in table and page order.</summary>
    [Id(1)] public List<SnapshotChunk> Chunks { get; set; } = new();
    /// <summary>When reading started.</summary>
    [Id(2)] public DateTimeOffset StartedAt { get; set; }
    /// <summary>When the last chunk became durable; null while the snapshot runs.</summary>
    [Id(3)] public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>True when every chunk is durable.</summary>
    public bool Completed => CompletedAt is not null;

    /// <summary>Cuts a table of <paramref name="pages"/> pages into ranges of <paramref name="chunkPages"/>; the last range is open-ended.</summary>
    public void AddTable(string table, long pages, uint fileNode, int chunkPages)
    {
        var index = Chunks.Count;
        for (long from = 0; ; from += chunkPages)
        {
            var last = from + chunkPages >= pages;
            Chunks.Add(new SnapshotChunk { Table = table, Index = index++, FromPage = from, ToPage = last ? null : from + chunkPages, FileNode = fileNode });
            if (last)
            {
                break;
            }
        }
    }
}

/// <summary>One page range of one table.</summary>
[GenerateSerializer, Alias("saiki.snapshot-chunk-state")]
public sealed class SnapshotChunk
{
    /// <summary>Table (<c>schema.table</c>).</summary>
    [Id(0)] public string Table { get; set; } = "";
    /// <summary>Chunk number within the source; names the chunk's file.</summary>
    [Id(1)] public int Index { get; set; }
    /// <summary>First page.</summary>
    [Id(2)] public long FromPage { get; set; }
    /// <summary>Page after the last; null for the table's last chunk, which also takes pages added later.</summary>
    [Id(3)] public long? ToPage { get; set; }
    /// <summary>True once the chunk's file and manifest entry are written.</summary>
    [Id(4)] public bool Done { get; set; }
    /// <summary>Rows the chunk held.</summary>
    [Id(5)] public long Rows { get; set; }
    /// <summary>The table's file node when the snapshot was planned; a different one means the table was rewritten.</summary>
    [Id(6)] public uint FileNode { get; set; }
}

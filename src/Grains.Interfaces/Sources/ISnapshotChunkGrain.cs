using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>Reads one page range of one table for a source's initial snapshot (key: <c>source|table|chunk</c>).</summary>
[Alias("saiki.snapshot-chunk")]
public interface ISnapshotChunkGrain : IGrainWithStringKey
{
    /// <summary>Reads the chunk and writes it to the lake with its manifest entry; returns the row count. Idempotent.</summary>
    [Alias("read")]
    Task<long> ReadAsync(SnapshotChunkWork work);
}

/// <summary>What a chunk reader needs.</summary>
/// <param name="SourceId">Source id.</param>
/// <param name="ConnectionString">Source database.</param>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="Chunk">Chunk number (names the file).</param>
/// <param name="FromPage">First page.</param>
/// <param name="ToPage">Page after the last, or null for the rest of the table.</param>
/// <param name="SnapshotName">Exported snapshot to import, or null when the export has ended (a fresh snapshot is taken).</param>
/// <param name="ConsistentPoint">The slot's consistent point: snapshot rows are positioned just before it.</param>
/// <param name="SnapshotTime">Time recorded as the rows' commit time.</param>
/// <param name="FileNode">The table's file node at the consistent point; if it changed, a rewrite (e.g. ALTER COLUMN
/// TYPE) made the exported snapshot see the table empty, so a fresh snapshot is read instead.</param>
/// <param name="Columns">The source's column privacy rules.</param>
[GenerateSerializer, Immutable, Alias("saiki.snapshot-chunk-work")]
public sealed record SnapshotChunkWork(
    [property: Id(0)] string SourceId,
    [property: Id(1)] string ConnectionString,
    [property: Id(2)] string Table,
    [property: Id(3)] int Chunk,
    [property: Id(4)] long FromPage,
    [property: Id(5)] long? ToPage,
    [property: Id(6)] string? SnapshotName,
    [property: Id(7)] ulong ConsistentPoint,
    [property: Id(8)] DateTimeOffset SnapshotTime,
    [property: Id(9)] uint FileNode,
    [property: Id(10)] IReadOnlyList<ColumnRule>? Columns)
{
    /// <summary>Names everything but the connection string, which may hold a password (records print every property).</summary>
    public override string ToString() =>
        $"SnapshotChunkWork {{ SourceId = {SourceId}, ConnectionString = (redacted), Table = {Table}, Chunk = {Chunk}, Pages = {FromPage}..{ToPage?.ToString() ?? "end"} }}";
}

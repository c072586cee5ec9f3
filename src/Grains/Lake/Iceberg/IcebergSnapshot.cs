using System.Text.Json;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// A committed state of a table: its manifest list plus a summary. Kept in table metadata, where
/// <c>current-snapshot-id</c> picks the one readers see and the others remain for time travel.
/// </summary>
/// <param name="SnapshotId">Unique in the table; see <see cref="MaxId"/>.</param>
/// <param name="ParentSnapshotId">The snapshot this one was committed on top of; null for the first.</param>
/// <param name="SequenceNumber">The commit's sequence number, one more than the table's last.</param>
/// <param name="TimestampMs">When the snapshot was committed (Unix milliseconds).</param>
/// <param name="ManifestList">The manifest list's absolute URI.</param>
/// <param name="Summary">String properties; <c>operation</c> is required.</param>
/// <param name="SchemaId">The table's current schema when the snapshot was committed.</param>
public sealed record IcebergSnapshot(
    long SnapshotId,
    long? ParentSnapshotId,
    long SequenceNumber,
    long TimestampMs,
    string ManifestList,
    IReadOnlyDictionary<string, string> Summary,
    int SchemaId)
{
    /// <summary>
    /// The largest id Saiki gives a snapshot: 2^53 - 1. JavaScript readers (icebird, iceberg-js) parse the metadata
    /// JSON into doubles, so two ids that differ only beyond 53 bits become the same number there, and icebird then
    /// silently reads the wrong snapshot. Ids up to this value survive that parse exactly.
    /// </summary>
    public const long MaxId = (1L << 53) - 1;

    /// <summary>Summary key of the kind of change.</summary>
    public const string OperationKey = "operation";

    /// <summary>Only data files were added.</summary>
    public const string Append = "append";

    /// <summary>Files were rewritten without changing the table's rows (compaction).</summary>
    public const string Replace = "replace";

    /// <summary>Files were added and removed as a logical overwrite.</summary>
    public const string Overwrite = "overwrite";

    /// <summary>Rows were deleted: data files removed and/or delete files added.</summary>
    public const string Delete = "delete";

    /// <summary>The summary, which must name one of the spec's four operations (snapshot expiry relies on it).</summary>
    public IReadOnlyDictionary<string, string> Summary { get; init; } = Summary.TryGetValue(OperationKey, out var operation) && operation is Append or Replace or Overwrite or Delete
        ? Summary
        : throw new ArgumentException("a snapshot summary needs operation = append, replace, overwrite or delete", nameof(Summary));

    /// <summary>Absolute, because readers fetch it verbatim.</summary>
    public string ManifestList { get; init; } = Uri.TryCreate(ManifestList, UriKind.Absolute, out _)
        ? ManifestList
        : throw new ArgumentException($"manifest list {ManifestList} is not an absolute URI; readers fetch it verbatim", nameof(ManifestList));

    /// <summary>The operation from the summary.</summary>
    public string Operation => Summary[OperationKey];

    /// <summary>A random snapshot id in [1, <see cref="MaxId"/>].</summary>
    public static long NewId() => Random.Shared.NextInt64(1, MaxId + 1);

    /// <summary>The snapshot's JSON object in table metadata.</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("snapshot-id", SnapshotId);
        if (ParentSnapshotId is { } parent)
        {
            json.WriteNumber("parent-snapshot-id", parent);
        }
        json.WriteNumber("sequence-number", SequenceNumber);
        json.WriteNumber("timestamp-ms", TimestampMs);
        json.WriteString("manifest-list", ManifestList);
        json.WriteStartObject("summary");
        foreach (var (key, value) in Summary.OrderBy(p => p.Key == OperationKey ? "" : p.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();
        json.WriteNumber("schema-id", SchemaId);
        json.WriteEndObject();
    }

    /// <summary>Reads a snapshot object of table metadata.</summary>
    public static IcebergSnapshot Read(JsonElement snapshot) => new(
        snapshot.GetProperty("snapshot-id").GetInt64(),
        snapshot.TryGetProperty("parent-snapshot-id", out var parent) && parent.ValueKind == JsonValueKind.Number ? parent.GetInt64() : null,
        snapshot.GetProperty("sequence-number").GetInt64(),
        snapshot.GetProperty("timestamp-ms").GetInt64(),
        snapshot.TryGetProperty("manifest-list", out var list)
            ? list.GetString()!
            : throw new NotSupportedException("v1 snapshots with an inline manifests list are not supported; a v2 snapshot has a manifest-list"),
        snapshot.GetProperty("summary").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
        snapshot.GetProperty("schema-id").GetInt32());
}

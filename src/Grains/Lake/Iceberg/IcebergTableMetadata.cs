using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// An Iceberg v2 table metadata file: the root of a table. Every commit writes a new one, and a reader sees exactly
/// the snapshot it names as current. Tables are unpartitioned and unsorted for now, so the partition spec and sort
/// order are the fixed empty ones; <see cref="Parse"/> refuses metadata with anything else rather than dropping it
/// on the next commit.
/// </summary>
/// <param name="TableUuid">Fixed at creation; readers refuse a refresh whose uuid changed (another table at the same place).</param>
/// <param name="Location">The table's base URI, without a trailing slash.</param>
/// <param name="LastSequenceNumber">The highest sequence number assigned by a commit.</param>
/// <param name="LastUpdatedMs">When this metadata was written (Unix milliseconds).</param>
/// <param name="LastColumnId">The highest field id ever assigned, so a new column never reuses a dropped one's id.</param>
/// <param name="Schemas">Every schema the table has had.</param>
/// <param name="CurrentSchemaId">The schema readers use.</param>
/// <param name="Properties">Table properties (reader and writer settings).</param>
/// <param name="CurrentSnapshotId">The snapshot readers see; null before the first commit.</param>
/// <param name="Snapshots">Every snapshot still kept.</param>
/// <param name="SnapshotLog">When each snapshot became current, for time travel by timestamp.</param>
/// <param name="MetadataLog">The earlier metadata files, newest last.</param>
public sealed record IcebergTableMetadata(
    Guid TableUuid,
    string Location,
    long LastSequenceNumber,
    long LastUpdatedMs,
    int LastColumnId,
    IReadOnlyList<IcebergSchema> Schemas,
    int CurrentSchemaId,
    IReadOnlyDictionary<string, string> Properties,
    long? CurrentSnapshotId,
    IReadOnlyList<IcebergSnapshot> Snapshots,
    IReadOnlyList<IcebergSnapshotLogEntry> SnapshotLog,
    IReadOnlyList<IcebergMetadataLogEntry> MetadataLog)
{
    /// <summary>The format version written and accepted.</summary>
    public const int FormatVersion = 2;

    /// <summary>The id of the only partition spec, the unpartitioned one.</summary>
    public const int UnpartitionedSpecId = 0;

    /// <summary>
    /// <c>last-partition-id</c> of a table that never had a partition field: partition field ids start at 1000, so
    /// the first one added will be 1000.
    /// </summary>
    public const int NoPartitionId = 999;

    /// <summary>The id of the only sort order, the unsorted one (id 0 is reserved for it).</summary>
    public const int UnsortedOrderId = 0;

    /// <summary>The branch readers follow; it always points at the current snapshot.</summary>
    public const string MainBranch = "main";

    /// <summary>Without a trailing slash, because readers append <c>/metadata/…</c> to it.</summary>
    public string Location { get; init; } = Uri.TryCreate(Location, UriKind.Absolute, out _) && !Location.EndsWith('/')
        ? Location
        : throw new ArgumentException($"table location {Location} must be an absolute URI without a trailing slash", nameof(Location));

    /// <summary>The schema readers use.</summary>
    public IcebergSchema CurrentSchema => Schemas.Single(s => s.SchemaId == CurrentSchemaId);

    /// <summary>The snapshot readers see, if any.</summary>
    public IcebergSnapshot? CurrentSnapshot => CurrentSnapshotId is { } id ? Snapshot(id) : null;

    /// <summary>A kept snapshot by id.</summary>
    public IcebergSnapshot Snapshot(long snapshotId) =>
        Snapshots.FirstOrDefault(s => s.SnapshotId == snapshotId) ?? throw new KeyNotFoundException($"snapshot {snapshotId} is not in the table metadata");

    /// <summary>The metadata of a new, empty table.</summary>
    public static IcebergTableMetadata Create(Guid tableUuid, string location, IcebergSchema schema, IReadOnlyDictionary<string, string>? properties, long timestampMs) => new(
        tableUuid, location, 0, timestampMs, schema.HighestFieldId, [schema], schema.SchemaId,
        properties ?? new Dictionary<string, string>(), null, [], [], []);

    /// <summary>
    /// The metadata after committing <paramref name="snapshot"/> on top of this one: it becomes current (and
    /// <c>main</c>), its commit time becomes <c>last-updated-ms</c>, and the snapshot and metadata logs grow. The
    /// snapshot must follow the current one (parent, a higher sequence number, a new id), as the spec's optimistic
    /// commit requires; a writer that lost a race rebuilds its snapshot on the newer metadata.
    /// </summary>
    /// <param name="snapshot">The new snapshot.</param>
    /// <param name="metadataFile">Where this (the base) metadata is stored, for the metadata log; null if it never was.</param>
    public IcebergTableMetadata WithSnapshot(IcebergSnapshot snapshot, string? metadataFile)
    {
        if (snapshot.SnapshotId is < 1 or > IcebergSnapshot.MaxId)
        {
            throw new ArgumentOutOfRangeException(nameof(snapshot), snapshot.SnapshotId, $"snapshot ids are in [1, {IcebergSnapshot.MaxId}] so JavaScript readers see them exactly");
        }
        if (Snapshots.Any(s => s.SnapshotId == snapshot.SnapshotId))
        {
            throw new ArgumentException($"snapshot id {snapshot.SnapshotId} is already in the table", nameof(snapshot));
        }
        if (snapshot.ParentSnapshotId != CurrentSnapshotId)
        {
            throw new ArgumentException($"snapshot {snapshot.SnapshotId} was built on {snapshot.ParentSnapshotId?.ToString() ?? "no snapshot"}, but the current snapshot is {CurrentSnapshotId?.ToString() ?? "none"}: rebuild it on the current metadata", nameof(snapshot));
        }
        if (snapshot.SequenceNumber <= LastSequenceNumber)
        {
            throw new ArgumentException($"snapshot sequence number {snapshot.SequenceNumber} is not above the table's last, {LastSequenceNumber}", nameof(snapshot));
        }
        if (Schemas.All(s => s.SchemaId != snapshot.SchemaId))
        {
            throw new ArgumentException($"snapshot schema {snapshot.SchemaId} is not a schema of the table", nameof(snapshot));
        }
        return this with
        {
            LastSequenceNumber = snapshot.SequenceNumber,
            LastUpdatedMs = snapshot.TimestampMs,
            CurrentSnapshotId = snapshot.SnapshotId,
            Snapshots = [.. Snapshots, snapshot],
            SnapshotLog = [.. SnapshotLog, new IcebergSnapshotLogEntry(snapshot.TimestampMs, snapshot.SnapshotId)],
            MetadataLog = metadataFile is null ? MetadataLog : [.. MetadataLog, new IcebergMetadataLogEntry(LastUpdatedMs, metadataFile)],
        };
    }

    /// <summary>The metadata file's JSON (indented: people read these when a table looks wrong).</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, IcebergSchema.JsonOptions with { Indented = true }))
        {
            WriteJson(json);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the metadata object, fields in the spec's order.</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("format-version", FormatVersion);
        json.WriteString("table-uuid", TableUuid.ToString("D"));
        json.WriteString("location", Location);
        json.WriteNumber("last-sequence-number", LastSequenceNumber);
        json.WriteNumber("last-updated-ms", LastUpdatedMs);
        json.WriteNumber("last-column-id", LastColumnId);
        json.WriteStartArray("schemas");
        foreach (var schema in Schemas)
        {
            schema.WriteJson(json);
        }
        json.WriteEndArray();
        json.WriteNumber("current-schema-id", CurrentSchemaId);
        json.WriteStartArray("partition-specs");
        json.WriteStartObject();
        json.WriteNumber("spec-id", UnpartitionedSpecId);
        json.WriteStartArray("fields");
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteNumber("default-spec-id", UnpartitionedSpecId);
        json.WriteNumber("last-partition-id", NoPartitionId);
        json.WriteStartObject("properties");
        foreach (var (key, value) in Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();
        // The spec leaves "no current snapshot" open; v1/v2 writers (Iceberg Java) write -1 and readers accept it as
        // none. icebird needs a current snapshot to read anything at all.
        json.WriteNumber("current-snapshot-id", CurrentSnapshotId ?? -1);
        json.WriteStartArray("snapshots");
        foreach (var snapshot in Snapshots)
        {
            snapshot.WriteJson(json);
        }
        json.WriteEndArray();
        json.WriteStartArray("snapshot-log");
        foreach (var entry in SnapshotLog)
        {
            json.WriteStartObject();
            json.WriteNumber("timestamp-ms", entry.TimestampMs);
            json.WriteNumber("snapshot-id", entry.SnapshotId);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("metadata-log");
        foreach (var entry in MetadataLog)
        {
            json.WriteStartObject();
            json.WriteNumber("timestamp-ms", entry.TimestampMs);
            json.WriteString("metadata-file", entry.MetadataFile);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("sort-orders");
        json.WriteStartObject();
        json.WriteNumber("order-id", UnsortedOrderId);
        json.WriteStartArray("fields");
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteNumber("default-sort-order-id", UnsortedOrderId);
        json.WriteStartObject("refs");
        if (CurrentSnapshotId is { } current)
        {
            json.WriteStartObject(MainBranch);
            json.WriteNumber("snapshot-id", current);
            json.WriteString("type", "branch");
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// Reads a v2 metadata file. Refuses what this model cannot carry to the next commit unchanged (another format
    /// version, partition specs or sort orders with fields, refs other than <c>main</c>) instead of losing it.
    /// </summary>
    public static IcebergTableMetadata Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.GetProperty("format-version").GetInt32() is var version && version != FormatVersion)
        {
            throw new NotSupportedException($"Iceberg format version {version} is not supported; only {FormatVersion}");
        }
        RequireEmpty(root, "partition-specs", "spec-id", UnpartitionedSpecId, "partitioned tables are not supported yet");
        RequireEmpty(root, "sort-orders", "order-id", UnsortedOrderId, "sorted tables are not supported yet");
        if (root.GetProperty("default-spec-id").GetInt32() != UnpartitionedSpecId || root.GetProperty("default-sort-order-id").GetInt32() != UnsortedOrderId)
        {
            throw new NotSupportedException("only the unpartitioned spec 0 and the unsorted order 0 are supported");
        }

        long? current = root.TryGetProperty("current-snapshot-id", out var c) && c.ValueKind == JsonValueKind.Number && c.GetInt64() != -1 ? c.GetInt64() : null;
        if (root.TryGetProperty("refs", out var refs) && refs.ValueKind == JsonValueKind.Object)
        {
            foreach (var reference in refs.EnumerateObject())
            {
                if (reference.Name != MainBranch)
                {
                    throw new NotSupportedException($"snapshot reference {reference.Name} is not supported; only the main branch");
                }
                if (reference.Value.GetProperty("snapshot-id").GetInt64() != current)
                {
                    throw new InvalidDataException("the main branch and current-snapshot-id name different snapshots");
                }
            }
        }
        var metadata = new IcebergTableMetadata(
            root.GetProperty("table-uuid").GetGuid(),
            root.GetProperty("location").GetString()!,
            root.GetProperty("last-sequence-number").GetInt64(),
            root.GetProperty("last-updated-ms").GetInt64(),
            root.GetProperty("last-column-id").GetInt32(),
            [.. root.GetProperty("schemas").EnumerateArray().Select(IcebergSchema.Read)],
            root.GetProperty("current-schema-id").GetInt32(),
            root.TryGetProperty("properties", out var properties)
                ? properties.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>(),
            current,
            Array("snapshots", IcebergSnapshot.Read),
            Array("snapshot-log", e => new IcebergSnapshotLogEntry(e.GetProperty("timestamp-ms").GetInt64(), e.GetProperty("snapshot-id").GetInt64())),
            Array("metadata-log", e => new IcebergMetadataLogEntry(e.GetProperty("timestamp-ms").GetInt64(), e.GetProperty("metadata-file").GetString()!)));
        if (metadata.Schemas.All(s => s.SchemaId != metadata.CurrentSchemaId))
        {
            throw new InvalidDataException($"current schema {metadata.CurrentSchemaId} is not among the table's schemas");
        }
        if (current is { } id && metadata.Snapshots.All(s => s.SnapshotId != id))
        {
            throw new InvalidDataException($"current snapshot {id} is not among the table's snapshots");
        }
        return metadata;

        IReadOnlyList<T> Array<T>(string name, Func<JsonElement, T> read) =>
            root.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? [.. array.EnumerateArray().Select(read)] : [];
    }

    private static void RequireEmpty(JsonElement root, string name, string idName, int id, string message)
    {
        foreach (var item in root.GetProperty(name).EnumerateArray())
        {
            if (item.GetProperty(idName).GetInt32() != id || item.GetProperty("fields").GetArrayLength() != 0)
            {
                throw new NotSupportedException($"{message}: {name} holds {item}");
            }
        }
    }
}

/// <summary>An entry of <c>snapshot-log</c>: a snapshot became current at this time.</summary>
public sealed record IcebergSnapshotLogEntry(long TimestampMs, long SnapshotId);

/// <summary>An entry of <c>metadata-log</c>: an earlier metadata file and when it was written.</summary>
public sealed record IcebergMetadataLogEntry(long TimestampMs, string MetadataFile);

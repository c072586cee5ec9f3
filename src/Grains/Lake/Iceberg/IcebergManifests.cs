using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// Iceberg v2 manifests (Avro files of <c>manifest_entry</c>) and manifest lists (Avro files of
/// <c>manifest_file</c>), with the spec's field names and field ids. Readers decode these by field name (icebird
/// ignores the ids), so the names must be the spec's exactly. Every record type has a name of its own and is defined
/// where it is used: icebird cannot follow a reference to a type defined earlier.
/// </summary>
public static class IcebergManifests
{
    /// <summary>Avro schema of a manifest of an unpartitioned table.</summary>
    public static readonly string ManifestEntrySchema = BuildManifestEntrySchema();

    /// <summary>Avro schema of a manifest list.</summary>
    public static readonly string ManifestFileSchema = BuildManifestFileSchema();

    /// <summary>
    /// A manifest of <paramref name="entries"/>, all data files (<paramref name="content"/> 0) or all position-delete
    /// files (1). The file metadata carries what the spec requires of a v2 manifest: the table schema, the partition
    /// spec (empty) and its id, the format version and the content kind.
    /// </summary>
    public static byte[] WriteManifest(IcebergSchema schema, int content, IReadOnlyList<IcebergManifestEntry> entries)
    {
        var fileContent = content switch
        {
            IcebergManifestFile.DataContent => IcebergDataFile.DataContent,
            IcebergManifestFile.DeletesContent => IcebergDataFile.PositionDeletesContent,
            _ => throw new ArgumentOutOfRangeException(nameof(content), content, "a manifest holds data (0) or deletes (1)"),
        };
        if (entries.FirstOrDefault(e => e.File.Content != fileContent) is { } stray)
        {
            throw new ArgumentException($"a {(content == 0 ? "data" : "delete")} manifest cannot hold {stray.File.FilePath} (content {stray.File.Content})", nameof(entries));
        }
        var metadata = new Dictionary<string, string>
        {
            ["schema"] = schema.ToJson(),
            ["schema-id"] = Text(schema.SchemaId),
            // Only the fields array of the spec; when tables are partitioned, the spec's fields go here.
            ["partition-spec"] = "[]",
            ["partition-spec-id"] = Text(IcebergTableMetadata.UnpartitionedSpecId),
            ["format-version"] = Text(IcebergTableMetadata.FormatVersion),
            ["content"] = content == IcebergManifestFile.DataContent ? "data" : "deletes",
        };
        return AvroContainer.Write(ManifestEntrySchema, metadata, entries, WriteEntry);
    }

    /// <summary>
    /// The manifest list of snapshot <paramref name="snapshotId"/>. A manifest added by this snapshot must carry the
    /// snapshot's sequence number and no manifest may come from a later one: readers give entries without their own
    /// number the manifest's, so a wrong one would apply deletes to the wrong data.
    /// </summary>
    public static byte[] WriteManifestList(long snapshotId, long? parentSnapshotId, long sequenceNumber, IReadOnlyList<IcebergManifestFile> manifests)
    {
        foreach (var manifest in manifests)
        {
            if (manifest.SequenceNumber > sequenceNumber || (manifest.AddedSnapshotId == snapshotId && manifest.SequenceNumber != sequenceNumber))
            {
                throw new ArgumentException($"manifest {manifest.Path} has sequence number {manifest.SequenceNumber}, which snapshot {snapshotId} with sequence number {sequenceNumber} cannot list", nameof(manifests));
            }
        }
        var metadata = new Dictionary<string, string>
        {
            ["snapshot-id"] = Text(snapshotId),
            // "null" without a parent, as Iceberg Java writes it.
            ["parent-snapshot-id"] = parentSnapshotId is { } parent ? Text(parent) : "null",
            ["sequence-number"] = Text(sequenceNumber),
            ["format-version"] = Text(IcebergTableMetadata.FormatVersion),
        };
        return AvroContainer.Write(ManifestFileSchema, metadata, manifests, WriteManifestFile);
    }

    /// <summary>
    /// The manifest-list line of a manifest just written for snapshot <paramref name="addedSnapshotId"/>: counts and
    /// the minimum data sequence number of live entries (the manifest's own number when none are live), computed
    /// from the entries so they cannot disagree with the manifest.
    /// </summary>
    public static IcebergManifestFile Describe(string path, long length, int content, long addedSnapshotId, long sequenceNumber, IReadOnlyList<IcebergManifestEntry> entries)
    {
        int Files(int status) => entries.Count(e => e.Status == status);
        long Rows(int status) => entries.Where(e => e.Status == status).Sum(e => e.File.RecordCount);
        var live = entries.Where(e => e.IsLive).Select(e => e.SequenceNumber).ToArray();
        return new IcebergManifestFile(
            path, length, IcebergTableMetadata.UnpartitionedSpecId, content, sequenceNumber, live.Length > 0 ? live.Min() : sequenceNumber, addedSnapshotId,
            Files(IcebergManifestEntry.Added), Files(IcebergManifestEntry.Existing), Files(IcebergManifestEntry.Deleted),
            Rows(IcebergManifestEntry.Added), Rows(IcebergManifestEntry.Existing), Rows(IcebergManifestEntry.Deleted));
    }

    /// <summary>
    /// The entries of a manifest. Sequence numbers and snapshot ids left out by a writer that relies on inheritance
    /// (allowed for added entries) are taken from <paramref name="listedAs"/>, the manifest's line in the manifest
    /// list; without it such a manifest is refused.
    /// </summary>
    public static IReadOnlyList<IcebergManifestEntry> ReadManifest(byte[] manifest, IcebergManifestFile? listedAs = null)
    {
        var file = AvroContainer.Read(manifest);
        if (file.Metadata.TryGetValue("format-version", out var version) && version != Text(IcebergTableMetadata.FormatVersion))
        {
            throw new NotSupportedException($"manifest format version {version} is not supported; only {IcebergTableMetadata.FormatVersion}");
        }
        return [.. file.Records.Select(r => ReadEntry(Record(r), listedAs))];
    }

    /// <summary>The lines of a manifest list.</summary>
    public static IReadOnlyList<IcebergManifestFile> ReadManifestList(byte[] manifestList) =>
        [.. AvroContainer.Read(manifestList).Records.Select(r =>
        {
            var m = Record(r);
            return new IcebergManifestFile(
                Required<string>(m, "manifest_path"), Required<long>(m, "manifest_length"), Required<int>(m, "partition_spec_id"),
                Required<int>(m, "content"), Required<long>(m, "sequence_number"), Required<long>(m, "min_sequence_number"),
                Required<long>(m, "added_snapshot_id"),
                Required<int>(m, "added_files_count"), Required<int>(m, "existing_files_count"), Required<int>(m, "deleted_files_count"),
                Required<long>(m, "added_rows_count"), Required<long>(m, "existing_rows_count"), Required<long>(m, "deleted_rows_count"));
        })];

    private static void WriteEntry(AvroEncoder e, IcebergManifestEntry entry)
    {
        e.WriteInt(entry.Status);
        WriteOptional(e, entry.SnapshotId, static (e, v) => e.WriteLong(v));
        WriteOptional(e, entry.SequenceNumber, static (e, v) => e.WriteLong(v));
        WriteOptional(e, entry.FileSequenceNumber, static (e, v) => e.WriteLong(v));
        var file = entry.File;
        e.WriteInt(file.Content);
        e.WriteString(file.FilePath);
        e.WriteString(file.FileFormat);
        // partition: the empty record of an unpartitioned table encodes as nothing; partition values go here later.
        e.WriteLong(file.RecordCount);
        e.WriteLong(file.FileSizeInBytes);
        WriteOptionalMap(e, file.ColumnSizes, static (e, v) => e.WriteLong(v));
        WriteOptionalMap(e, file.ValueCounts, static (e, v) => e.WriteLong(v));
        WriteOptionalMap(e, file.NullValueCounts, static (e, v) => e.WriteLong(v));
        WriteOptionalMap(e, file.NanValueCounts, static (e, v) => e.WriteLong(v));
        WriteOptionalMap(e, file.LowerBounds, static (e, v) => e.WriteBytes(v));
        WriteOptionalMap(e, file.UpperBounds, static (e, v) => e.WriteBytes(v));
        e.WriteUnionBranch(0); // key_metadata: no encryption
        WriteOptional(e, file.SplitOffsets, static (e, v) => e.WriteArray(v, static (e, o) => e.WriteLong(o)));
        e.WriteUnionBranch(0); // equality_ids: no equality deletes
        e.WriteUnionBranch(0); // sort_order_id: files are not sorted by a table order
        WriteOptional(e, file.ReferencedDataFile, static (e, v) => e.WriteString(v));
    }

    private static void WriteManifestFile(AvroEncoder e, IcebergManifestFile m)
    {
        e.WriteString(m.Path);
        e.WriteLong(m.Length);
        e.WriteInt(m.SpecId);
        e.WriteInt(m.Content);
        e.WriteLong(m.SequenceNumber);
        e.WriteLong(m.MinSequenceNumber);
        e.WriteLong(m.AddedSnapshotId);
        e.WriteInt(m.AddedFiles);
        e.WriteInt(m.ExistingFiles);
        e.WriteInt(m.DeletedFiles);
        e.WriteLong(m.AddedRows);
        e.WriteLong(m.ExistingRows);
        e.WriteLong(m.DeletedRows);
        // partitions: one summary per partition field, so none while tables are unpartitioned.
        e.WriteUnionBranch(1);
        e.WriteArray(Array.Empty<int>(), static (_, _) => { });
        e.WriteUnionBranch(0); // key_metadata: no encryption
    }

    private static void WriteOptional<T>(AvroEncoder e, T? value, Action<AvroEncoder, T> write) where T : notnull
    {
        if (value is null)
        {
            e.WriteUnionBranch(0);
            return;
        }
        e.WriteUnionBranch(1);
        write(e, value);
    }

    private static void WriteOptionalMap<T>(AvroEncoder e, IReadOnlyDictionary<int, T>? map, Action<AvroEncoder, T> writeValue) =>
        WriteOptional(e, map, (e, m) => e.WriteArray(m.OrderBy(p => p.Key).ToArray(), (e, p) =>
        {
            e.WriteInt(p.Key);
            writeValue(e, p.Value);
        }));

    private static IcebergManifestEntry ReadEntry(IReadOnlyDictionary<string, object?> entry, IcebergManifestFile? listedAs)
    {
        var status = Required<int>(entry, "status");
        long Inherited(string name, long? inherited) =>
            Optional<long>(entry, name) ?? (status == IcebergManifestEntry.Added ? inherited : null)
                ?? throw new InvalidDataException($"manifest entry without {name}: pass the manifest's manifest-list line to inherit it, or the manifest is broken (only added entries may inherit)");
        var f = Record(entry.GetValueOrDefault("data_file"));
        return new IcebergManifestEntry(
            status,
            Inherited("snapshot_id", listedAs?.AddedSnapshotId),
            Inherited("sequence_number", listedAs?.SequenceNumber),
            Inherited("file_sequence_number", listedAs?.SequenceNumber),
            new IcebergDataFile(
                Optional<int>(f, "content") ?? IcebergDataFile.DataContent,
                Required<string>(f, "file_path"),
                Required<string>(f, "file_format"),
                Required<long>(f, "record_count"),
                Required<long>(f, "file_size_in_bytes"),
                Map<long>(f, "column_sizes"),
                Map<long>(f, "value_counts"),
                Map<long>(f, "null_value_counts"),
                Map<long>(f, "nan_value_counts"),
                Map<byte[]>(f, "lower_bounds"),
                Map<byte[]>(f, "upper_bounds"),
                f.GetValueOrDefault("split_offsets") is List<object?> offsets ? [.. offsets.Cast<long>()] : null,
                f.GetValueOrDefault("referenced_data_file") as string));
    }

    private static IReadOnlyDictionary<string, object?> Record(object? value) =>
        value as IReadOnlyDictionary<string, object?> ?? throw new InvalidDataException("expected an Avro record");

    private static T Required<T>(IReadOnlyDictionary<string, object?> record, string name) where T : notnull =>
        record.GetValueOrDefault(name) is T value ? value : throw new InvalidDataException($"required field {name} is missing or not {typeof(T).Name}");

    private static T? Optional<T>(IReadOnlyDictionary<string, object?> record, string name) where T : struct =>
        record.GetValueOrDefault(name) switch
        {
            null => null,
            T value => value,
            var other => throw new InvalidDataException($"field {name} is {other.GetType().Name}, not {typeof(T).Name}"),
        };

    private static Dictionary<int, T>? Map<T>(IReadOnlyDictionary<string, object?> record, string name) where T : notnull =>
        record.GetValueOrDefault(name) is List<object?> pairs
            ? pairs.Select(Record).ToDictionary(p => Required<int>(p, "key"), p => Required<T>(p, "value"))
            : null;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string BuildManifestEntrySchema()
    {
        var dataFile = Struct("r2",
            RequiredField("content", "int", 134),
            RequiredField("file_path", "string", 100),
            RequiredField("file_format", "string", 101),
            // The partition tuple: one optional field per partition field (ids from 1000) once tables are partitioned.
            RequiredField("partition", Struct("r102"), 102),
            RequiredField("record_count", "long", 103),
            RequiredField("file_size_in_bytes", "long", 104),
            OptionalField("column_sizes", IntMap(117, "long", 118), 108),
            OptionalField("value_counts", IntMap(119, "long", 120), 109),
            OptionalField("null_value_counts", IntMap(121, "long", 122), 110),
            OptionalField("nan_value_counts", IntMap(138, "long", 139), 137),
            OptionalField("lower_bounds", IntMap(126, "bytes", 127), 125),
            OptionalField("upper_bounds", IntMap(129, "bytes", 130), 128),
            OptionalField("key_metadata", "bytes", 131),
            OptionalField("split_offsets", ArrayOf("long", 133), 132),
            OptionalField("equality_ids", ArrayOf("int", 136), 135),
            OptionalField("sort_order_id", "int", 140),
            OptionalField("referenced_data_file", "string", 143));
        return Struct("manifest_entry",
            RequiredField("status", "int", 0),
            OptionalField("snapshot_id", "long", 1),
            OptionalField("sequence_number", "long", 3),
            OptionalField("file_sequence_number", "long", 4),
            RequiredField("data_file", dataFile, 2)).ToJsonString();
    }

    private static string BuildManifestFileSchema()
    {
        var fieldSummary = Struct("r508",
            RequiredField("contains_null", "boolean", 509),
            OptionalField("contains_nan", "boolean", 518),
            OptionalField("lower_bound", "bytes", 510),
            OptionalField("upper_bound", "bytes", 511));
        return Struct("manifest_file",
            RequiredField("manifest_path", "string", 500),
            RequiredField("manifest_length", "long", 501),
            RequiredField("partition_spec_id", "int", 502),
            RequiredField("content", "int", 517),
            RequiredField("sequence_number", "long", 515),
            RequiredField("min_sequence_number", "long", 516),
            RequiredField("added_snapshot_id", "long", 503),
            RequiredField("added_files_count", "int", 504),
            RequiredField("existing_files_count", "int", 505),
            RequiredField("deleted_files_count", "int", 506),
            RequiredField("added_rows_count", "long", 512),
            RequiredField("existing_rows_count", "long", 513),
            RequiredField("deleted_rows_count", "long", 514),
            OptionalField("partitions", ArrayOf(fieldSummary, 508), 507),
            OptionalField("key_metadata", "bytes", 519)).ToJsonString();
    }

    private static JsonObject Struct(string name, params JsonObject[] fields) =>
        new() { ["type"] = "record", ["name"] = name, ["fields"] = new JsonArray(fields) };

    private static JsonObject RequiredField(string name, JsonNode? type, int id) =>
        new() { ["name"] = name, ["type"] = type, ["field-id"] = id };

    // Iceberg's Avro convention for optional fields: a union with null first, and a null default.
    private static JsonObject OptionalField(string name, JsonNode? type, int id) =>
        new() { ["name"] = name, ["type"] = new JsonArray("null", type), ["default"] = null, ["field-id"] = id };

    private static JsonObject ArrayOf(JsonNode? element, int elementId) =>
        new() { ["type"] = "array", ["items"] = element, ["element-id"] = elementId };

    // Avro maps only have string keys, so Iceberg stores int-keyed maps as arrays of key/value records, marked with
    // the logical type "map"; the record name k{key}_v{value} follows the spec's example.
    private static JsonObject IntMap(int keyId, string valueType, int valueId) => new()
    {
        ["type"] = "array",
        ["logicalType"] = "map",
        ["items"] = Struct($"k{keyId}_v{valueId}", RequiredField("key", "int", keyId), RequiredField("value", valueType, valueId)),
    };
}

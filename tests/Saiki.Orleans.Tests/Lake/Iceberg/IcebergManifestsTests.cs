using System.Text.Json;
using Saiki.Orleans.Lake.Iceberg;

namespace Saiki.Orleans.Tests.Lake.Iceberg;

public sealed class IcebergManifestsTests
{
    private static readonly IcebergSchema Schema = new(0, [new(1, "id", true, "long"), new(2, "name", false, "string")], [1]);

    private static readonly IcebergDataFile FullDataFile = new(
        IcebergDataFile.DataContent, "s3://lake/orders/data/a.parquet", IcebergDataFile.Parquet, 3, 1234,
        ColumnSizes: new Dictionary<int, long> { [2] = 40, [1] = 60 },
        ValueCounts: new Dictionary<int, long> { [1] = 3, [2] = 3 },
        NullValueCounts: new Dictionary<int, long> { [1] = 0, [2] = 1 },
        NanValueCounts: new Dictionary<int, long>(),
        LowerBounds: new Dictionary<int, byte[]> { [1] = BitConverter.GetBytes(1L), [2] = "ada"u8.ToArray() },
        UpperBounds: new Dictionary<int, byte[]> { [1] = BitConverter.GetBytes(3L), [2] = "bob"u8.ToArray() },
        SplitOffsets: [4, 900]);

    [Fact]
    public void Manifest_RoundTripsEveryField_AndCarriesTheSpecsFileMetadata()
    {
        var entries = new[]
        {
            new IcebergManifestEntry(IcebergManifestEntry.Existing, 11, 1, 1, FullDataFile),
            new IcebergManifestEntry(IcebergManifestEntry.Added, 22, 2, 2, new IcebergDataFile(IcebergDataFile.DataContent, "s3://lake/orders/data/b.parquet", IcebergDataFile.Parquet, 0, 10)),
            new IcebergManifestEntry(IcebergManifestEntry.Deleted, 22, 1, 1, FullDataFile with { FilePath = "s3://lake/orders/data/c.parquet" }),
        };
        var manifest = IcebergManifests.WriteManifest(Schema, IcebergManifestFile.DataContent, entries);

        Assert.Equivalent(entries, IcebergManifests.ReadManifest(manifest), strict: true);
        var metadata = AvroContainer.Read(manifest).Metadata;
        Assert.Equal(Schema.ToJson(), metadata["schema"]);
        Assert.Equal("0", metadata["schema-id"]);
        Assert.Equal("[]", metadata["partition-spec"]);
        Assert.Equal("0", metadata["partition-spec-id"]);
        Assert.Equal("2", metadata["format-version"]);
        Assert.Equal("data", metadata["content"]);
        Assert.Equal("null", metadata[AvroContainer.CodecKey]);
    }

    [Fact]
    public void DeleteManifest_HoldsOnlyPositionDeleteFiles_WithTheirReferencedDataFile()
    {
        var deletes = new IcebergDataFile(IcebergDataFile.PositionDeletesContent, "s3://lake/orders/data/d.parquet", IcebergDataFile.Parquet, 1, 500,
            ReferencedDataFile: FullDataFile.FilePath);
        var entries = new[] { new IcebergManifestEntry(IcebergManifestEntry.Added, 22, 2, 2, deletes) };
        var manifest = IcebergManifests.WriteManifest(Schema, IcebergManifestFile.DeletesContent, entries);

        Assert.Equal("deletes", AvroContainer.Read(manifest).Metadata["content"]);
        Assert.Equivalent(entries, IcebergManifests.ReadManifest(manifest), strict: true);
        Assert.Throws<ArgumentException>(() => IcebergManifests.WriteManifest(Schema, IcebergManifestFile.DataContent, entries));
        Assert.Throws<ArgumentException>(() => IcebergManifests.WriteManifest(Schema, IcebergManifestFile.DeletesContent, [new(IcebergManifestEntry.Added, 22, 2, 2, FullDataFile)]));
    }

    [Fact]
    public void ManifestList_RoundTripsEveryField_WithTheSnapshotInItsMetadata()
    {
        var manifests = new[]
        {
            new IcebergManifestFile("s3://lake/orders/metadata/m1.avro", 4000, 0, IcebergManifestFile.DataContent, 1, 1, 11, 1, 0, 0, 3, 0, 0),
            new IcebergManifestFile("s3://lake/orders/metadata/m2.avro", 5000, 0, IcebergManifestFile.DataContent, 2, 1, 22, 1, 2, 3, 10, 20, 30),
            new IcebergManifestFile("s3://lake/orders/metadata/d2.avro", 600, 0, IcebergManifestFile.DeletesContent, 2, 2, 22, 1, 0, 0, 1, 0, 0),
        };
        var list = IcebergManifests.WriteManifestList(22, 11, 2, manifests);

        Assert.Equal(manifests, IcebergManifests.ReadManifestList(list));
        var metadata = AvroContainer.Read(list).Metadata;
        Assert.Equal("22", metadata["snapshot-id"]);
        Assert.Equal("11", metadata["parent-snapshot-id"]);
        Assert.Equal("2", metadata["sequence-number"]);
        Assert.Equal("2", metadata["format-version"]);
        Assert.Equal("null", AvroContainer.Read(IcebergManifests.WriteManifestList(11, null, 1, manifests[..1])).Metadata["parent-snapshot-id"]);
        // Partition summaries: an empty list for an unpartitioned table.
        Assert.Empty((List<object?>)((IReadOnlyDictionary<string, object?>)AvroContainer.Read(list).Records[0]!)["partitions"]!);
    }

    [Fact]
    public void ManifestList_RefusesSequenceNumbersThatWouldMisapplyDeletes()
    {
        var fromLater = new IcebergManifestFile("s3://lake/m.avro", 1, 0, 0, 3, 3, 33, 1, 0, 0, 1, 0, 0);
        Assert.Throws<ArgumentException>(() => IcebergManifests.WriteManifestList(22, 11, 2, [fromLater]));
        var newButOld = fromLater with { SequenceNumber = 1, AddedSnapshotId = 22 };
        Assert.Throws<ArgumentException>(() => IcebergManifests.WriteManifestList(22, 11, 2, [newButOld]));
    }

    [Fact]
    public void Describe_CountsFilesAndRowsByStatus_AndTakesTheMinimumLiveSequenceNumber()
    {
        var entries = new[]
        {
            new IcebergManifestEntry(IcebergManifestEntry.Existing, 11, 1, 1, FullDataFile),
            new IcebergManifestEntry(IcebergManifestEntry.Added, 33, 3, 3, FullDataFile with { FilePath = "s3://x/b", RecordCount = 5 }),
            new IcebergManifestEntry(IcebergManifestEntry.Deleted, 33, 0, 0, FullDataFile with { FilePath = "s3://x/c", RecordCount = 7 }),
        };
        var described = IcebergManifests.Describe("s3://x/m.avro", 99, IcebergManifestFile.DataContent, 33, 3, entries);
        Assert.Equal(new IcebergManifestFile("s3://x/m.avro", 99, 0, 0, 3, 1, 33, 1, 1, 1, 5, 3, 7), described);
        Assert.Equal(3, IcebergManifests.Describe("s3://x/m.avro", 99, 0, 33, 3, entries[2..]).MinSequenceNumber);
    }

    [Fact]
    public void ReadManifest_InheritsOmittedNumbersOfAddedEntriesFromTheManifestList_AsTheSpecAllows()
    {
        // A manifest as a writer relying on inheritance writes it: null snapshot id and sequence numbers, and no
        // optional data_file fields in the schema at all.
        const string schema = """
            {"type":"record","name":"manifest_entry","fields":[
              {"name":"status","type":"int","field-id":0},
              {"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},
              {"name":"sequence_number","type":["null","long"],"default":null,"field-id":3},
              {"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4},
              {"name":"data_file","type":{"type":"record","name":"r2","fields":[
                {"name":"content","type":"int","field-id":134},
                {"name":"file_path","type":"string","field-id":100},
                {"name":"file_format","type":"string","field-id":101},
                {"name":"partition","type":{"type":"record","name":"r102","fields":[]},"field-id":102},
                {"name":"record_count","type":"long","field-id":103},
                {"name":"file_size_in_bytes","type":"long","field-id":104}]},"field-id":2}]}
            """;
        byte[] Manifest(int status) => AvroContainer.Write(schema, new Dictionary<string, string>(), new[] { status }, (e, s) =>
        {
            e.WriteInt(s);
            e.WriteUnionBranch(0);
            e.WriteUnionBranch(0);
            e.WriteUnionBranch(0);
            e.WriteInt(0);
            e.WriteString("s3://lake/a.parquet");
            e.WriteString("PARQUET");
            e.WriteLong(3);
            e.WriteLong(100);
        });
        var listed = new IcebergManifestFile("s3://lake/m.avro", 1, 0, 0, 7, 7, 77, 1, 0, 0, 3, 0, 0);

        var entry = Assert.Single(IcebergManifests.ReadManifest(Manifest(IcebergManifestEntry.Added), listed));
        Assert.Equal((77L, 7L, 7L), (entry.SnapshotId, entry.SequenceNumber, entry.FileSequenceNumber));
        Assert.Null(entry.File.ColumnSizes);
        Assert.Throws<InvalidDataException>(() => IcebergManifests.ReadManifest(Manifest(IcebergManifestEntry.Added)));
        Assert.Throws<InvalidDataException>(() => IcebergManifests.ReadManifest(Manifest(IcebergManifestEntry.Existing), listed));
    }

    [Fact]
    public void Schemas_UseTheSpecsNamesAndFieldIds_UniqueRecordNames_AndNoTypeReferences()
    {
        var entryIds = new Dictionary<string, int>
        {
            ["status"] = 0, ["snapshot_id"] = 1, ["sequence_number"] = 3, ["file_sequence_number"] = 4, ["data_file"] = 2,
            ["content"] = 134, ["file_path"] = 100, ["file_format"] = 101, ["partition"] = 102, ["record_count"] = 103,
            ["file_size_in_bytes"] = 104, ["column_sizes"] = 108, ["value_counts"] = 109, ["null_value_counts"] = 110,
            ["nan_value_counts"] = 137, ["lower_bounds"] = 125, ["upper_bounds"] = 128, ["key_metadata"] = 131,
            ["split_offsets"] = 132, ["equality_ids"] = 135, ["sort_order_id"] = 140, ["referenced_data_file"] = 143,
            ["column_sizes.key"] = 117, ["column_sizes.value"] = 118, ["value_counts.key"] = 119, ["value_counts.value"] = 120,
            ["null_value_counts.key"] = 121, ["null_value_counts.value"] = 122, ["nan_value_counts.key"] = 138,
            ["nan_value_counts.value"] = 139, ["lower_bounds.key"] = 126, ["lower_bounds.value"] = 127,
            ["upper_bounds.key"] = 129, ["upper_bounds.value"] = 130, ["split_offsets.element"] = 133, ["equality_ids.element"] = 136,
        };
        var listIds = new Dictionary<string, int>
        {
            ["manifest_path"] = 500, ["manifest_length"] = 501, ["partition_spec_id"] = 502, ["content"] = 517,
            ["sequence_number"] = 515, ["min_sequence_number"] = 516, ["added_snapshot_id"] = 503, ["added_files_count"] = 504,
            ["existing_files_count"] = 505, ["deleted_files_count"] = 506, ["added_rows_count"] = 512,
            ["existing_rows_count"] = 513, ["deleted_rows_count"] = 514, ["partitions"] = 507, ["key_metadata"] = 519,
            ["partitions.element"] = 508, ["contains_null"] = 509, ["contains_nan"] = 518, ["lower_bound"] = 510, ["upper_bound"] = 511,
        };
        foreach (var (schema, expected) in new[] { (IcebergManifests.ManifestEntrySchema, entryIds), (IcebergManifests.ManifestFileSchema, listIds) })
        {
            var ids = new Dictionary<string, int>();
            var recordNames = new List<string>();
            using var document = JsonDocument.Parse(schema);
            Walk(document.RootElement, "", ids, recordNames);
            Assert.Equal(expected.OrderBy(p => p.Key), ids.OrderBy(p => p.Key));
            Assert.Equal(recordNames.Count, recordNames.Distinct().Count());
        }
    }

    // Collects field ids by field name ("map.key", "list.element" for nested ones) and record names, and fails on
    // a type given by name (a reference icebird cannot follow).
    private static void Walk(JsonElement type, string owner, Dictionary<string, int> ids, List<string> recordNames)
    {
        switch (type.ValueKind)
        {
            case JsonValueKind.String:
                Assert.Contains(type.GetString(), new[] { "null", "boolean", "int", "long", "float", "double", "bytes", "string" });
                return;
            case JsonValueKind.Array:
                foreach (var branch in type.EnumerateArray())
                {
                    Walk(branch, owner, ids, recordNames);
                }
                return;
        }
        switch (type.GetProperty("type").GetString())
        {
            case "record":
                recordNames.Add(type.GetProperty("name").GetString()!);
                var isMapPair = type.GetProperty("name").GetString()!.StartsWith('k');
                foreach (var field in type.GetProperty("fields").EnumerateArray())
                {
                    var name = field.GetProperty("name").GetString()!;
                    var key = isMapPair ? owner + "." + name : name;
                    ids.Add(key, field.GetProperty("field-id").GetInt32());
                    Walk(field.GetProperty("type"), key, ids, recordNames);
                }
                return;
            case "array":
                if (type.TryGetProperty("element-id", out var elementId))
                {
                    ids.Add(owner + ".element", elementId.GetInt32());
                }
                else
                {
                    Assert.Equal("map", type.GetProperty("logicalType").GetString());
                }
                Walk(type.GetProperty("items"), owner, ids, recordNames);
                return;
            default:
                Assert.Fail($"unexpected Avro type {type}");
                return;
        }
    }
}

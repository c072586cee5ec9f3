using System.Text.Json;
using Saiki.Orleans.Lake.Iceberg;

namespace Saiki.Orleans.Tests.Lake.Iceberg;

public sealed class IcebergTableMetadataTests
{
    private static readonly Guid Uuid = Guid.Parse("9c12d441-03fe-4693-9a96-a0705ddf69c1");
    private const string Location = "s3://lake/src/public.orders";

    private static readonly IcebergSchema Schema = new(0,
    [
        new(1, "id", true, "long"), new(2, "name", false, "string"), new(3, "amount", false, "decimal(12, 2)"),
        new(4, "at", false, "timestamptz"), new(5, "ok", false, "boolean"), new(6, "day", false, "date"),
        new(7, "t", false, "time"), new(8, "local", false, "timestamp"), new(9, "u", false, "uuid"), new(10, "raw", false, "binary"),
        new(11, "i", false, "int"), new(12, "f", false, "float"), new(13, "d", false, "double"),
    ], [1]);

    private static IcebergSnapshot Snapshot(long id, long? parent, long sequence, string operation = IcebergSnapshot.Append) => new(
        id, parent, sequence, 1_780_000_000_000 + sequence, $"{Location}/metadata/snap-{id}.avro",
        new Dictionary<string, string> { ["added-data-files"] = "1", [IcebergSnapshot.OperationKey] = operation }, 0);

    private static IcebergTableMetadata TwoCommits()
    {
        var created = IcebergTableMetadata.Create(Uuid, Location, Schema, new Dictionary<string, string> { ["write.format.default"] = "parquet" }, 1_779_999_999_000);
        return created
            .WithSnapshot(Snapshot(IcebergSnapshot.MaxId - 1, null, 1), null)
            .WithSnapshot(Snapshot(IcebergSnapshot.MaxId, IcebergSnapshot.MaxId - 1, 2, IcebergSnapshot.Overwrite), $"{Location}/metadata/v1.metadata.json");
    }

    [Fact]
    public void Metadata_RoundTripsThroughJson_WithEveryV2Field()
    {
        var metadata = TwoCommits();
        var json = metadata.ToJson();
        var parsed = IcebergTableMetadata.Parse(json);

        Assert.Equal(json, parsed.ToJson());
        Assert.Equal(metadata with { Schemas = [], Properties = null!, Snapshots = [], SnapshotLog = [], MetadataLog = [] },
            parsed with { Schemas = [], Properties = null!, Snapshots = [], SnapshotLog = [], MetadataLog = [] });
        Assert.Equivalent(metadata.Snapshots, parsed.Snapshots, strict: true);
        Assert.Equal(metadata.SnapshotLog, parsed.SnapshotLog);
        Assert.Equal(metadata.MetadataLog, parsed.MetadataLog);
        Assert.Equal(IcebergSnapshot.MaxId, parsed.CurrentSnapshot!.SnapshotId);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(2, root.GetProperty("format-version").GetInt32());
        Assert.Equal(Uuid.ToString(), root.GetProperty("table-uuid").GetString());
        Assert.Equal(Location, root.GetProperty("location").GetString());
        Assert.Equal(2, root.GetProperty("last-sequence-number").GetInt64());
        Assert.Equal(1_780_000_000_002, root.GetProperty("last-updated-ms").GetInt64());
        Assert.Equal(13, root.GetProperty("last-column-id").GetInt32());
        Assert.Equal(0, root.GetProperty("current-schema-id").GetInt32());
        Assert.Equal("""[{"spec-id":0,"fields":[]}]""", Compact(root.GetProperty("partition-specs")));
        Assert.Equal(0, root.GetProperty("default-spec-id").GetInt32());
        Assert.Equal(999, root.GetProperty("last-partition-id").GetInt32());
        Assert.Equal("""[{"order-id":0,"fields":[]}]""", Compact(root.GetProperty("sort-orders")));
        Assert.Equal(0, root.GetProperty("default-sort-order-id").GetInt32());
        Assert.Equal("parquet", root.GetProperty("properties").GetProperty("write.format.default").GetString());
        Assert.Equal(IcebergSnapshot.MaxId, root.GetProperty("current-snapshot-id").GetInt64());
        Assert.Equal($$$"""{"main":{"snapshot-id":{{{IcebergSnapshot.MaxId}}},"type":"branch"}}""", Compact(root.GetProperty("refs")));
        var second = root.GetProperty("snapshots")[1];
        Assert.Equal(IcebergSnapshot.MaxId - 1, second.GetProperty("parent-snapshot-id").GetInt64());
        Assert.Equal(2, second.GetProperty("sequence-number").GetInt64());
        Assert.Equal("overwrite", second.GetProperty("summary").GetProperty("operation").GetString());
        Assert.False(root.GetProperty("snapshots")[0].TryGetProperty("parent-snapshot-id", out _));
        Assert.Equal(2, root.GetProperty("snapshot-log").GetArrayLength());
        Assert.Equal($$"""[{"timestamp-ms":1780000000001,"metadata-file":"{{Location}}/metadata/v1.metadata.json"}]""", Compact(root.GetProperty("metadata-log")));
    }

    [Fact]
    public void EmptyTable_HasCurrentSnapshotMinusOne_AndNoMainBranch_AndParsesAsNoSnapshot()
    {
        var json = IcebergTableMetadata.Create(Uuid, Location, Schema, null, 1).ToJson();
        using var document = JsonDocument.Parse(json);
        Assert.Equal(-1, document.RootElement.GetProperty("current-snapshot-id").GetInt64());
        Assert.Equal("{}", Compact(document.RootElement.GetProperty("refs")));

        var parsed = IcebergTableMetadata.Parse(json);
        Assert.Null(parsed.CurrentSnapshotId);
        Assert.Null(parsed.CurrentSnapshot);
        Assert.Null(IcebergTableMetadata.Parse(json.Replace("\"current-snapshot-id\": -1", "\"current-snapshot-id\": null")).CurrentSnapshotId);
    }

    [Fact]
    public void Schema_RoundTripsThroughJson_InTheSpecsShape_WithCanonicalDecimals()
    {
        var json = Schema.ToJson();
        Assert.StartsWith("""{"type":"struct","schema-id":0,"identifier-field-ids":[1],"fields":[{"id":1,"name":"id","required":true,"type":"long"}""", json);
        Assert.Contains("\"decimal(12,2)\"", json);
        var parsed = IcebergSchema.Parse(json);
        Assert.Equal(Schema.Fields, parsed.Fields);
        Assert.Equal([1], parsed.IdentifierFieldIds!);
        Assert.Equal(json, parsed.ToJson());
        Assert.DoesNotContain("identifier-field-ids", new IcebergSchema(3, [new(1, "a", false, "int")]).ToJson());
    }

    [Fact]
    public void Schema_RefusesWhatItCannotCarry()
    {
        Assert.Throws<NotSupportedException>(() => new IcebergField(1, "a", true, "list<int>"));
        Assert.Throws<NotSupportedException>(() => new IcebergField(1, "a", true, "decimal(39,2)"));
        Assert.Throws<NotSupportedException>(() => new IcebergField(1, "a", true, "timestamp_ns"));
        Assert.Throws<ArgumentException>(() => new IcebergSchema(0, [new(1, "a", true, "int"), new(1, "b", true, "int")]));
        Assert.Throws<ArgumentException>(() => new IcebergSchema(0, [new(1, "a", false, "int")], [1]));
        Assert.Throws<ArgumentException>(() => new IcebergSchema(0, [new(1, "a", true, "double")], [1]));
        Assert.Throws<NotSupportedException>(() => IcebergSchema.Parse(
            """{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"l","required":true,"type":{"type":"list","element-id":2,"element-required":true,"element":"int"}}]}"""));
    }

    [Fact]
    public void WithSnapshot_RequiresTheNextCommitOnTheCurrentSnapshot()
    {
        var metadata = TwoCommits();
        Assert.Throws<ArgumentException>(() => metadata.WithSnapshot(Snapshot(5, IcebergSnapshot.MaxId - 1, 3), null));
        Assert.Throws<ArgumentException>(() => metadata.WithSnapshot(Snapshot(5, IcebergSnapshot.MaxId, 2), null));
        Assert.Throws<ArgumentException>(() => metadata.WithSnapshot(Snapshot(IcebergSnapshot.MaxId - 1, IcebergSnapshot.MaxId, 3), null));
        Assert.Throws<ArgumentOutOfRangeException>(() => metadata.WithSnapshot(Snapshot(IcebergSnapshot.MaxId + 1, IcebergSnapshot.MaxId, 3), null));
        Assert.Throws<ArgumentException>(() => Snapshot(5, null, 1, "upsert"));
        Assert.Equal(3, metadata.WithSnapshot(Snapshot(5, IcebergSnapshot.MaxId, 3), null).Snapshots.Count);
        Assert.All(Enumerable.Range(0, 1000).Select(_ => IcebergSnapshot.NewId()), id => Assert.InRange(id, 1, IcebergSnapshot.MaxId));
    }

    [Fact]
    public void Parse_RefusesMetadataItWouldLoseOnTheNextCommit()
    {
        var json = TwoCommits().ToJson();
        Assert.Throws<NotSupportedException>(() => IcebergTableMetadata.Parse(json.Replace("\"format-version\": 2", "\"format-version\": 3")));
        string With(string name, string value)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            node[name] = System.Text.Json.Nodes.JsonNode.Parse(value);
            return node.ToJsonString();
        }
        Assert.Throws<NotSupportedException>(() => IcebergTableMetadata.Parse(With("partition-specs",
            """[{"spec-id":0,"fields":[{"source-id":1,"field-id":1000,"name":"id_bucket","transform":"bucket[16]"}]}]""")));
        Assert.Throws<NotSupportedException>(() => IcebergTableMetadata.Parse(With("sort-orders",
            """[{"order-id":1,"fields":[{"transform":"identity","source-id":1,"direction":"asc","null-order":"nulls-first"}]}]""")));
        Assert.Throws<NotSupportedException>(() => IcebergTableMetadata.Parse(With("refs",
            $$$"""{"main":{"snapshot-id":{{{IcebergSnapshot.MaxId}}},"type":"branch"},"v1":{"snapshot-id":1,"type":"tag"}}""")));
        Assert.Throws<InvalidDataException>(() => IcebergTableMetadata.Parse(With("refs", """{"main":{"snapshot-id":1,"type":"branch"}}""")));
        Assert.Throws<InvalidDataException>(() => IcebergTableMetadata.Parse(With("current-snapshot-id", "12345")));
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);
}

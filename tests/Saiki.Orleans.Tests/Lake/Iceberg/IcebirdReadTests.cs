using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Saiki.Orleans.Lake.Iceberg;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Lake.Iceberg;

/// <summary>
/// A table written with our metadata layer reads correctly in icebird, a reader that shares nothing with ours:
/// two appends, a position delete, and time travel back to the first snapshot. Everything is on local disk under
/// file:// URIs (the tests' fetch shim serves them), so no service is needed.
/// </summary>
public sealed class IcebirdReadTests : IDisposable
{
    private const string IcebergSchemaKey = "iceberg.schema";

    private static readonly IcebergSchema Schema = new(0, [new(1, "id", true, "long"), new(2, "name", false, "string"), new(3, "score", false, "double")], [1]);

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("saiki-iceberg-");
    private readonly string _table;
    private readonly string _location;

    public IcebirdReadTests()
    {
        _table = Path.Combine(_root.FullName, "orders");
        _location = new Uri(_table).AbsoluteUri;
    }

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Icebird_ReadsTheCurrentSnapshotWithItsPositionDeletes_AndTimeTravelsToTheFirstSnapshot()
    {
        // Neighbours at the top of the range: they stay distinct only because both are at most 2^53 - 1 (icebird
        // compares snapshot ids as JavaScript doubles).
        const long first = IcebergSnapshot.MaxId - 1, second = IcebergSnapshot.MaxId;
        var t0 = 1_780_000_000_000L;

        // Snapshot 1 (sequence 1): append file A.
        var a = await DataFileAsync("data/a.parquet", [(1, "ada", 1.5), (2, "bob", null), (3, null, 3.25)]);
        var m1 = Manifest("m1", IcebergManifestFile.DataContent, first, 1, [new(IcebergManifestEntry.Added, first, 1, 1, a)]);
        var v1 = IcebergTableMetadata.Create(Guid.NewGuid(), _location, Schema, null, t0)
            .WithSnapshot(Snapshot(first, null, 1, t0 + 1, IcebergSnapshot.Append, [m1]), null);
        var v1File = Put("metadata/v1.metadata.json", Encoding.UTF8.GetBytes(v1.ToJson()));

        // Snapshot 2 (sequence 2): append file B and delete A's row 1 (id 2) with a position-delete file. The data
        // manifest of snapshot 1 is carried over as its manifest list had it.
        var b = await DataFileAsync("data/b.parquet", [(4, "eve", 4.0), (5, "fay", -0.5)]);
        var deletes = await PositionDeletesAsync("data/deletes-1.parquet", [(a.FilePath, 1)]);
        var carried = Assert.Single(IcebergManifests.ReadManifestList(File.ReadAllBytes(LocalPath(v1.CurrentSnapshot!.ManifestList))));
        var m2 = Manifest("m2", IcebergManifestFile.DataContent, second, 2, [new(IcebergManifestEntry.Added, second, 2, 2, b)]);
        var d2 = Manifest("d2", IcebergManifestFile.DeletesContent, second, 2, [new(IcebergManifestEntry.Added, second, 2, 2, deletes)]);
        Assert.Equal((2L, 2L), (d2.SequenceNumber, d2.MinSequenceNumber));
        var v2 = v1.WithSnapshot(Snapshot(second, first, 2, t0 + 2, IcebergSnapshot.Overwrite, [carried, m2, d2]), v1File);
        var v2File = Put("metadata/v2.metadata.json", Encoding.UTF8.GetBytes(v2.ToJson()));
        Put("metadata/version-hint.text", "2"u8.ToArray());

        Assert.Equal(v2.ToJson(), IcebergTableMetadata.Parse(File.ReadAllText(LocalPath(v2File))).ToJson());

        var current = await Icebird.ReadAsync(LocalPath(v2File));
        Assert.Equal(second, current.GetProperty("snapshot").GetInt64());
        Assert.Equal(2, current.GetProperty("files").GetInt32());
        Assert.Equal(1, current.GetProperty("deleteFiles").GetInt32());
        Assert.Equal(["1:ada:1.5", "3:null:3.25", "4:eve:4", "5:fay:-0.5"], Rows(current));

        var past = await Icebird.ReadAsync(v2File, first);
        Assert.Equal(first, past.GetProperty("snapshot").GetInt64());
        Assert.Equal(1, past.GetProperty("files").GetInt32());
        Assert.Equal(0, past.GetProperty("deleteFiles").GetInt32());
        Assert.Equal(["1:ada:1.5", "2:bob:null", "3:null:3.25"], Rows(past));
    }

    private static string[] Rows(JsonElement read) =>
    [
        .. read.GetProperty("rows").EnumerateArray()
            .Select(r => $"{r.GetProperty("id").GetString()}:{Text(r.GetProperty("name"))}:{Text(r.GetProperty("score"))}")
            .OrderBy(r => long.Parse(r[..r.IndexOf(':')])),
    ];

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.Null ? "null" : value.ToString();

    private IcebergSnapshot Snapshot(long id, long? parent, long sequence, long timestampMs, string operation, IReadOnlyList<IcebergManifestFile> manifests)
    {
        var list = Put($"metadata/snap-{id}-1-{Guid.NewGuid()}.avro", IcebergManifests.WriteManifestList(id, parent, sequence, manifests));
        return new IcebergSnapshot(id, parent, sequence, timestampMs, list, new Dictionary<string, string> { [IcebergSnapshot.OperationKey] = operation }, Schema.SchemaId);
    }

    private IcebergManifestFile Manifest(string name, int content, long snapshotId, long sequence, IReadOnlyList<IcebergManifestEntry> entries)
    {
        var bytes = IcebergManifests.WriteManifest(Schema, content, entries);
        var path = Put($"metadata/{Guid.NewGuid()}-{name}.avro", bytes);
        return IcebergManifests.Describe(path, bytes.Length, content, snapshotId, sequence, entries);
    }

    private async Task<IcebergDataFile> DataFileAsync(string relative, (long Id, string? Name, double? Score)[] rows)
    {
        var fields = new DataField[]
        {
            new DataField<long>("id") { FieldId = 1 },
            new DataField<string>("name", true) { FieldId = 2 },
            new DataField<double?>("score") { FieldId = 3 },
        };
        var bytes = await ParquetAsync(Schema, fields, async group =>
        {
            await group.WriteAsync<long>(fields[0], rows.Select(r => r.Id).ToArray());
            await group.WriteAsync(fields[1], rows.Select(r => r.Name).ToArray());
            await group.WriteAsync<double>(fields[2], rows.Select(r => r.Score).ToArray());
        });
        var ids = rows.Select(r => r.Id).ToArray();
        var names = rows.Select(r => r.Name).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        return new IcebergDataFile(
            IcebergDataFile.DataContent, Put(relative, bytes), IcebergDataFile.Parquet, rows.Length, bytes.Length,
            ValueCounts: new Dictionary<int, long> { [1] = rows.Length, [2] = rows.Length, [3] = rows.Length },
            NullValueCounts: new Dictionary<int, long> { [1] = 0, [2] = rows.Count(r => r.Name is null), [3] = rows.Count(r => r.Score is null) },
            NanValueCounts: new Dictionary<int, long> { [3] = 0 },
            LowerBounds: new Dictionary<int, byte[]> { [1] = LongBound(ids.Min()), [2] = Encoding.UTF8.GetBytes(names[0]) },
            UpperBounds: new Dictionary<int, byte[]> { [1] = LongBound(ids.Max()), [2] = Encoding.UTF8.GetBytes(names[^1]) });
    }

    private async Task<IcebergDataFile> PositionDeletesAsync(string relative, (string Path, long Pos)[] deletes)
    {
        var sorted = deletes.OrderBy(d => d.Path, StringComparer.Ordinal).ThenBy(d => d.Pos).ToArray();
        var fields = new DataField[]
        {
            new DataField<string>(IcebergPositionDeletes.FilePathColumn, false) { FieldId = IcebergPositionDeletes.FilePathFieldId },
            new DataField<long>(IcebergPositionDeletes.PosColumn) { FieldId = IcebergPositionDeletes.PosFieldId },
        };
        var bytes = await ParquetAsync(IcebergPositionDeletes.Schema, fields, async group =>
        {
            await group.WriteAsync(fields[0], sorted.Select(d => d.Path).ToArray());
            await group.WriteAsync<long>(fields[1], sorted.Select(d => d.Pos).ToArray());
        });
        var referenced = sorted.Select(d => d.Path).Distinct().ToArray();
        return new IcebergDataFile(IcebergDataFile.PositionDeletesContent, Put(relative, bytes), IcebergDataFile.Parquet, sorted.Length, bytes.Length,
            ReferencedDataFile: referenced.Length == 1 ? referenced[0] : null);
    }

    // The Iceberg schema goes into the footer as iceberg.schema: icebird maps columns by the field ids it finds there.
    private static async Task<byte[]> ParquetAsync(IcebergSchema schema, DataField[] fields, Func<ParquetRowGroupWriter, Task> writeColumns)
    {
        using var output = new MemoryStream();
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = CompressionLevel.Optimal };
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), output, options))
        {
            writer.CustomMetadata = new Dictionary<string, string> { [IcebergSchemaKey] = schema.ToJson() };
            using var group = writer.CreateRowGroup();
            await writeColumns(group);
            group.CompleteValidate();
        }
        return output.ToArray();
    }

    private static byte[] LongBound(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private string Put(string relative, byte[] content)
    {
        var path = Path.Combine(_table, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return $"{_location}/{relative}";
    }

    private static string LocalPath(string uri) => new Uri(uri).LocalPath;
}

using System.IO.Compression;
using System.Text;
using Saiki.Orleans.Lake.Iceberg;

namespace Saiki.Orleans.Tests.Lake.Iceberg;

public sealed class AvroContainerTests
{
    private const string PairSchema = """{"type":"record","name":"pair","fields":[{"name":"n","type":"long"},{"name":"s","type":["null","string"]}]}""";

    private static byte[] Encode(Action<AvroEncoder> write)
    {
        var encoder = new AvroEncoder();
        write(encoder);
        return encoder.Written.ToArray();
    }

    [Fact]
    public void Longs_AreZigZagVarints_AsInTheAvroSpec()
    {
        Assert.Equal([0x00], Encode(e => e.WriteLong(0)));
        Assert.Equal([0x01], Encode(e => e.WriteLong(-1)));
        Assert.Equal([0x02], Encode(e => e.WriteLong(1)));
        Assert.Equal([0x03], Encode(e => e.WriteLong(-2)));
        Assert.Equal([0x04], Encode(e => e.WriteLong(2)));
        Assert.Equal([0x7F], Encode(e => e.WriteLong(-64)));
        Assert.Equal([0x80, 0x01], Encode(e => e.WriteLong(64)));
        Assert.Equal([0xFE, 0xFF, 0xFF, 0xFF, 0x0F], Encode(e => e.WriteInt(int.MaxValue)));
        foreach (var value in new[] { long.MinValue, long.MaxValue, (1L << 53) - 1, -300, 300 })
        {
            Assert.Equal(value, new AvroDecoder(Encode(e => e.WriteLong(value))).ReadLong());
        }
        Assert.Throws<InvalidDataException>(() => new AvroDecoder(Encode(e => e.WriteLong(1L << 40))).ReadInt());
    }

    [Fact]
    public void StringsBytesAndArrays_AreLengthPrefixed_ArraysInOneBlockThenZero()
    {
        Assert.Equal([0x06, (byte)'a', 0xC3, 0xBC], Encode(e => e.WriteString("aü")));
        Assert.Equal([0x04, 0xFF, 0x00], Encode(e => e.WriteBytes([0xFF, 0x00])));
        Assert.Equal([0x04, 0x02, 0x04, 0x00], Encode(e => e.WriteArray(new long[] { 1, 2 }, (e, v) => e.WriteLong(v))));
        Assert.Equal([0x00], Encode(e => e.WriteArray(Array.Empty<long>(), (e, v) => e.WriteLong(v))));
        Assert.Equal([0x02, 0x06, (byte)'x', (byte)'y', (byte)'z'], Encode(e =>
        {
            e.WriteUnionBranch(1);
            e.WriteString("xyz");
        }));

        var decoder = new AvroDecoder(Encode(e =>
        {
            e.WriteBoolean(true);
            e.WriteFloat(1.5f);
            e.WriteDouble(-2.25);
            e.WriteString("ü");
        }));
        Assert.True(decoder.ReadBoolean());
        Assert.Equal(1.5f, decoder.ReadFloat());
        Assert.Equal(-2.25, decoder.ReadDouble());
        Assert.Equal("ü", decoder.ReadString());
        Assert.True(decoder.AtEnd);
    }

    [Fact]
    public void ContainerFile_HasMagicMetadataWithNullCodecAndOneSyncedBlock_AndReadsBack()
    {
        var records = new (long N, string? S)[] { (1, "one"), (-2, null), (long.MaxValue, "") };
        var file = AvroContainer.Write(PairSchema, new Dictionary<string, string> { ["extra"] = "x" }, records, WritePair);

        Assert.Equal("Obj\x01"u8.ToArray(), file[..4]);
        // The last 16 bytes are the sync marker that also closes the header.
        var sync = file[^16..];
        Assert.Equal(2, IndexesOf(file, sync).Count);

        var read = AvroContainer.Read(file);
        Assert.Equal("null", read.Metadata[AvroContainer.CodecKey]);
        Assert.Equal(PairSchema, read.Schema);
        Assert.Equal("x", read.Metadata["extra"]);
        Assert.Equal(records, read.Records.Select(r => ((long)Field(r, "n")!, (string?)Field(r, "s"))));

        Assert.Equal(file, AvroContainer.Write(PairSchema, new Dictionary<string, string> { ["extra"] = "x" }, records, WritePair));
        Assert.Throws<ArgumentException>(() => AvroContainer.Write(PairSchema, new Dictionary<string, string> { [AvroContainer.CodecKey] = "deflate" }, records, WritePair));
    }

    [Fact]
    public void EmptyFile_HasNoBlock_AndReadsAsNoRecords()
    {
        var file = AvroContainer.Write(PairSchema, new Dictionary<string, string>(), Array.Empty<(long, string?)>(), WritePair);
        Assert.Empty(AvroContainer.Read(file).Records);
    }

    [Fact]
    public void Reader_DecodesWhatOtherWritersProduce_DeflateBlocksNamedReferencesMapsEnumsAndFixed()
    {
        // A schema using what our writer never emits: a named-type reference (the second field reuses "point"),
        // a namespace, enum, fixed and map.
        const string schema = """
            {"type":"record","name":"row","namespace":"t","fields":[
              {"name":"a","type":{"type":"record","name":"point","fields":[{"name":"x","type":"int"}]}},
              {"name":"b","type":["null","t.point"]},
              {"name":"kind","type":{"type":"enum","name":"kind","symbols":["DATA","DELETES"]}},
              {"name":"id","type":{"type":"fixed","name":"id16","size":2}},
              {"name":"props","type":{"type":"map","values":"string"}},
              {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}}]}
            """;
        void WriteRow(AvroEncoder e, int x)
        {
            e.WriteInt(x);
            e.WriteUnionBranch(1);
            e.WriteInt(-x);
            e.WriteInt(1);
            e.WriteRaw([0xAB, (byte)x]);
            e.WriteLong(1);
            e.WriteString("k");
            e.WriteString("v" + x);
            e.WriteLong(0);
            e.WriteLong(1_000_000L * x);
        }

        // Two deflate blocks, as Iceberg Java writes manifests by default.
        var sync = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var file = new AvroEncoder();
        file.WriteRaw("Obj\x01"u8);
        file.WriteLong(2);
        file.WriteString(AvroContainer.SchemaKey);
        file.WriteBytes(Encoding.UTF8.GetBytes(schema));
        file.WriteString(AvroContainer.CodecKey);
        file.WriteBytes("deflate"u8);
        file.WriteLong(0);
        file.WriteRaw(sync);
        foreach (var block in new[] { new[] { 1, 2 }, new[] { 3 } })
        {
            var raw = new AvroEncoder();
            foreach (var x in block)
            {
                WriteRow(raw, x);
            }
            using var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                deflate.Write(raw.Written);
            }
            file.WriteLong(block.Length);
            file.WriteBytes(compressed.ToArray());
            file.WriteRaw(sync);
        }

        var rows = AvroContainer.Read(file.Written.ToArray()).Records;
        Assert.Equal(3, rows.Count);
        var third = rows[2];
        Assert.Equal(3, Field(Field(third, "a"), "x"));
        Assert.Equal(-3, Field(Field(third, "b"), "x"));
        Assert.Equal("DELETES", Field(third, "kind"));
        Assert.Equal(new byte[] { 0xAB, 3 }, Field(third, "id"));
        Assert.Equal("v3", ((IReadOnlyDictionary<string, object?>)Field(third, "props")!)["k"]);
        Assert.Equal(3_000_000L, Field(third, "ts"));
    }

    [Fact]
    public void Reader_RefusesFilesThatAreNotAvroOrAreDamaged()
    {
        var file = AvroContainer.Write(PairSchema, new Dictionary<string, string>(), new[] { (1L, (string?)"a") }, WritePair);
        Assert.Throws<InvalidDataException>(() => AvroContainer.Read("PAR1"u8.ToArray()));
        var badSync = file.ToArray();
        badSync[^1] ^= 0xFF;
        Assert.Throws<InvalidDataException>(() => AvroContainer.Read(badSync));
        Assert.Throws<InvalidDataException>(() => AvroContainer.Read(file[..^20]));
    }

    private static void WritePair(AvroEncoder e, (long N, string? S) pair)
    {
        e.WriteLong(pair.N);
        if (pair.S is null)
        {
            e.WriteUnionBranch(0);
        }
        else
        {
            e.WriteUnionBranch(1);
            e.WriteString(pair.S);
        }
    }

    private static object? Field(object? record, string name) => ((IReadOnlyDictionary<string, object?>)record!)[name];

    private static List<int> IndexesOf(byte[] haystack, byte[] needle)
    {
        var found = new List<int>();
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                found.Add(i);
            }
        }
        return found;
    }
}

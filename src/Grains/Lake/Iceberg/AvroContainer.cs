using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// Avro object container files, the format of Iceberg v2 manifests and manifest lists: the magic <c>Obj\x01</c>, a
/// metadata map (the writer schema under <c>avro.schema</c>, the codec under <c>avro.codec</c>, plus the caller's
/// keys), a 16-byte sync marker, then data blocks (record count, byte size, records, sync marker).
/// </summary>
public static class AvroContainer
{
    /// <summary>Metadata key of the writer schema (JSON).</summary>
    public const string SchemaKey = "avro.schema";

    /// <summary>Metadata key of the block codec.</summary>
    public const string CodecKey = "avro.codec";

    private static ReadOnlySpan<byte> Magic => "Obj\x01"u8;

    private const int SyncLength = 16;

    /// <summary>
    /// A container file holding <paramref name="records"/> in one block, uncompressed. The codec is written
    /// explicitly as <c>null</c> although Avro lets it be left out: icebird refuses a file without the key, and its
    /// deflate decoder fails on small blocks. The sync marker is taken from a hash of the content, so writing the
    /// same records again (a retried commit) gives the same bytes.
    /// </summary>
    public static byte[] Write<T>(string schemaJson, IReadOnlyDictionary<string, string> metadata, IReadOnlyCollection<T> records, Action<AvroEncoder, T> writeRecord)
    {
        if (metadata.ContainsKey(SchemaKey) || metadata.ContainsKey(CodecKey))
        {
            throw new ArgumentException($"{SchemaKey} and {CodecKey} are set by the container writer", nameof(metadata));
        }
        var data = new AvroEncoder();
        foreach (var record in records)
        {
            writeRecord(data, record);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(schemaJson));
        hash.AppendData(data.Written);
        var sync = hash.GetHashAndReset()[..SyncLength];

        var file = new AvroEncoder();
        file.WriteRaw(Magic);
        var entries = new List<KeyValuePair<string, string>> { new(SchemaKey, schemaJson), new(CodecKey, "null") };
        entries.AddRange(metadata.OrderBy(m => m.Key, StringComparer.Ordinal));
        file.WriteArray(entries, (e, entry) =>
        {
            e.WriteString(entry.Key);
            e.WriteBytes(Encoding.UTF8.GetBytes(entry.Value));
        });
        file.WriteRaw(sync);
        if (records.Count > 0)
        {
            file.WriteLong(records.Count);
            file.WriteLong(data.Written.Length);
            file.WriteRaw(data.Written);
            file.WriteRaw(sync);
        }
        return file.Written.ToArray();
    }

    /// <summary>
    /// Decodes a container file with its own writer schema. Records come back as dictionaries by field name, arrays
    /// as lists, maps as dictionaries, unions as the value of their branch (<c>null</c> for the null branch), enums as
    /// their symbol, <c>bytes</c> and <c>fixed</c> as byte arrays; logical types are left as their base type. Besides
    /// what <see cref="Write"/> produces it reads what other Iceberg writers commonly produce (deflate blocks, named
    /// type references, several blocks), so a table another engine has written to can still be read back.
    /// </summary>
    public static AvroFile Read(byte[] file)
    {
        var decoder = new AvroDecoder(file);
        if (file.Length < Magic.Length || !decoder.ReadRaw(Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an Avro container file: the magic Obj\\x01 is missing");
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var count = decoder.ReadBlockCount(); count > 0; count = decoder.ReadBlockCount())
        {
            for (var i = 0; i < count; i++)
            {
                metadata[decoder.ReadString()] = Encoding.UTF8.GetString(decoder.ReadBytes());
            }
        }
        var sync = decoder.ReadRaw(SyncLength).ToArray();
        var schemaJson = metadata.TryGetValue(SchemaKey, out var s) ? s : throw new InvalidDataException($"Avro file without {SchemaKey}");
        var codec = metadata.GetValueOrDefault(CodecKey, "null");
        if (codec is not ("null" or "deflate"))
        {
            throw new NotSupportedException($"Avro codec {codec} is not supported (only null and deflate)");
        }
        using var schema = JsonDocument.Parse(schemaJson);
        var readRecord = AvroSchemaReader.Compile(schema.RootElement);

        var records = new List<object?>();
        while (!decoder.AtEnd)
        {
            var count = decoder.ReadLong();
            var size = decoder.ReadLong();
            if (count < 0 || size < 0 || size > int.MaxValue)
            {
                throw new InvalidDataException($"Avro block header out of range: {count} records, {size} bytes");
            }
            var block = decoder.ReadRaw((int)size).ToArray();
            var blockDecoder = new AvroDecoder(codec == "deflate" ? Inflate(block) : block);
            for (var i = 0; i < count; i++)
            {
                records.Add(readRecord(blockDecoder));
            }
            if (!blockDecoder.AtEnd)
            {
                throw new InvalidDataException("Avro block holds more bytes than its records: the data does not match the writer schema");
            }
            if (!decoder.ReadRaw(SyncLength).SequenceEqual(sync))
            {
                throw new InvalidDataException("Avro sync marker mismatch: the file is corrupt or truncated");
            }
        }
        return new AvroFile(metadata, records);
    }

    private static byte[] Inflate(byte[] block)
    {
        using var inflater = new DeflateStream(new MemoryStream(block), CompressionMode.Decompress);
        using var output = new MemoryStream();
        inflater.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Turns a writer schema into a decoding function, once per file rather than once per value.</summary>
    private static class AvroSchemaReader
    {
        public static Func<AvroDecoder, object?> Compile(JsonElement schema) => Compile(schema, "", new Dictionary<string, Func<AvroDecoder, object?>>(StringComparer.Ordinal));

        private static Func<AvroDecoder, object?> Compile(JsonElement schema, string space, Dictionary<string, Func<AvroDecoder, object?>> named)
        {
            switch (schema.ValueKind)
            {
                case JsonValueKind.String:
                    var name = schema.GetString()!;
                    return Primitive(name) ?? (named.TryGetValue(FullName(name, space), out var reference) || named.TryGetValue(name, out reference)
                        ? reference
                        : throw new InvalidDataException($"Avro schema names an undefined type {name}"));
                case JsonValueKind.Array:
                    var branches = schema.EnumerateArray().Select(b => Compile(b, space, named)).ToArray();
                    return d =>
                    {
                        var index = d.ReadLong();
                        return index >= 0 && index < branches.Length ? branches[index](d) : throw new InvalidDataException($"Avro union branch {index} out of range");
                    };
                case JsonValueKind.Object:
                    return Complex(schema, space, named);
                default:
                    throw new InvalidDataException($"Avro schema element {schema} is not a type");
            }
        }

        private static Func<AvroDecoder, object?>? Primitive(string name) => name switch
        {
            "null" => _ => null,
            "boolean" => d => d.ReadBoolean(),
            "int" => d => d.ReadInt(),
            "long" => d => d.ReadLong(),
            "float" => d => d.ReadFloat(),
            "double" => d => d.ReadDouble(),
            "bytes" => d => d.ReadBytes(),
            "string" => d => d.ReadString(),
            _ => null,
        };

        private static Func<AvroDecoder, object?> Complex(JsonElement schema, string space, Dictionary<string, Func<AvroDecoder, object?>> named)
        {
            var type = schema.GetProperty("type");
            if (type.ValueKind != JsonValueKind.String)
            {
                return Compile(type, space, named);
            }
            switch (type.GetString())
            {
                case "record" or "error":
                {
                    var (fullName, fieldSpace) = Define(schema, space);
                    var fields = schema.GetProperty("fields").EnumerateArray().ToArray();
                    var names = fields.Select(f => f.GetProperty("name").GetString()!).ToArray();
                    var readers = new Func<AvroDecoder, object?>[fields.Length];
                    Func<AvroDecoder, object?> read = d =>
                    {
                        var record = new Dictionary<string, object?>(readers.Length, StringComparer.Ordinal);
                        for (var i = 0; i < readers.Length; i++)
                        {
                            record[names[i]] = readers[i](d);
                        }
                        return record;
                    };
                    // Registered before its fields are compiled, so a field may refer to the record itself.
                    named[fullName] = read;
                    for (var i = 0; i < fields.Length; i++)
                    {
                        readers[i] = Compile(fields[i].GetProperty("type"), fieldSpace, named);
                    }
                    return read;
                }
                case "enum":
                {
                    var symbols = schema.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()!).ToArray();
                    Func<AvroDecoder, object?> read = d =>
                    {
                        var index = d.ReadInt();
                        return index >= 0 && index < symbols.Length ? symbols[index] : throw new InvalidDataException($"Avro enum index {index} out of range");
                    };
                    named[Define(schema, space).FullName] = read;
                    return read;
                }
                case "fixed":
                {
                    var size = schema.GetProperty("size").GetInt32();
                    Func<AvroDecoder, object?> read = d => d.ReadRaw(size).ToArray();
                    named[Define(schema, space).FullName] = read;
                    return read;
                }
                case "array":
                {
                    var item = Compile(schema.GetProperty("items"), space, named);
                    return d =>
                    {
                        var list = new List<object?>();
                        for (var count = d.ReadBlockCount(); count > 0; count = d.ReadBlockCount())
                        {
                            for (var i = 0; i < count; i++)
                            {
                                list.Add(item(d));
                            }
                        }
                        return list;
                    };
                }
                case "map":
                {
                    var value = Compile(schema.GetProperty("values"), space, named);
                    return d =>
                    {
                        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                        for (var count = d.ReadBlockCount(); count > 0; count = d.ReadBlockCount())
                        {
                            for (var i = 0; i < count; i++)
                            {
                                map[d.ReadString()] = value(d);
                            }
                        }
                        return map;
                    };
                }
                case var primitive:
                    // {"type": "long", "logicalType": ...}: the logical type does not change the encoding.
                    return Primitive(primitive!) ?? Compile(type, space, named);
            }
        }

        private static (string FullName, string Space) Define(JsonElement schema, string space)
        {
            var name = schema.GetProperty("name").GetString()!;
            if (!name.Contains('.') && schema.TryGetProperty("namespace", out var ns) && ns.GetString() is { } declared)
            {
                space = declared;
            }
            var fullName = FullName(name, space);
            var dot = fullName.LastIndexOf('.');
            return (fullName, dot < 0 ? "" : fullName[..dot]);
        }

        private static string FullName(string name, string space) => name.Contains('.') || space.Length == 0 ? name : space + "." + name;
    }
}

/// <summary>A decoded Avro container file: its metadata and its records (see <see cref="AvroContainer.Read"/>).</summary>
public sealed record AvroFile(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<object?> Records)
{
    /// <summary>The writer schema the records were encoded with.</summary>
    public string Schema => Metadata[AvroContainer.SchemaKey];
}

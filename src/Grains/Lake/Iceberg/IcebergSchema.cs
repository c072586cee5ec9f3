using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// A top-level column of an Iceberg schema. Readers match data-file columns to it by <paramref name="Id"/>, never by
/// name, so a rename keeps old files readable; ids are never reused. Only primitive types for now: boolean, int,
/// long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, binary.
/// </summary>
public sealed partial record IcebergField(int Id, string Name, bool Required, string Type)
{
    /// <summary>Positive: table column ids are assigned from 1 up, and the last one assigned is the table's <c>last-column-id</c>.</summary>
    public int Id { get; init; } = Id > 0 ? Id : throw new ArgumentOutOfRangeException(nameof(Id), Id, "an Iceberg field id is positive");

    /// <summary>The column name (what readers show; not what they match on).</summary>
    public string Name { get; init; } = !string.IsNullOrEmpty(Name) ? Name : throw new ArgumentException("an Iceberg field needs a name", nameof(Name));

    /// <summary>The type in its canonical spelling (<c>decimal(9,2)</c>, without the space the spec also allows), so equal types compare equal.</summary>
    public string Type { get; init; } = Canonical(Type);

    private static readonly HashSet<string> Primitives = new(StringComparer.Ordinal)
    {
        "boolean", "int", "long", "float", "double", "date", "time", "timestamp", "timestamptz", "string", "uuid", "binary",
    };

    private static string Canonical(string type)
    {
        if (Primitives.Contains(type))
        {
            return type;
        }
        if (DecimalPattern().Match(type) is { Success: true } m
            && int.Parse(m.Groups[1].Value) is >= 1 and <= 38 and var precision
            && int.Parse(m.Groups[2].Value) is var scale && scale <= precision)
        {
            return $"decimal({precision},{scale})";
        }
        throw new NotSupportedException($"Iceberg type {type} is not supported here: use boolean, int, long, float, double, decimal(P,S) with 1 <= P <= 38 and S <= P, date, time, timestamp, timestamptz, string, uuid or binary");
    }

    [GeneratedRegex(@"^decimal\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)$")]
    private static partial Regex DecimalPattern();
}

/// <summary>
/// An Iceberg table schema: a struct of <see cref="IcebergField"/>s with an id of its own, kept in table metadata
/// (every version the table had) and written into each manifest and each Parquet data file (<c>iceberg.schema</c>)
/// so a file can be read with the schema it was written with.
/// </summary>
public sealed record IcebergSchema(int SchemaId, IReadOnlyList<IcebergField> Fields, IReadOnlyList<int>? IdentifierFieldIds = null)
{
    /// <summary>The fields, checked for unique ids and names (readers would silently pick one of the duplicates).</summary>
    public IReadOnlyList<IcebergField> Fields { get; init; } = Validate(Fields);

    /// <summary>
    /// The row identity (the source's primary key), used by engines for upserts and equality deletes. Each must be a
    /// required field that is not float or double: the spec forbids the rest, as NaN and null never compare equal.
    /// </summary>
    public IReadOnlyList<int>? IdentifierFieldIds { get; init; } = ValidateIdentifiers(IdentifierFieldIds, Fields);

    /// <summary>The highest field id: the table's <c>last-column-id</c> must be at least this.</summary>
    public int HighestFieldId => Fields.Count == 0 ? 0 : Fields.Max(f => f.Id);

    // Relaxed escaping keeps paths and names readable (a '+' stays '+'); the JSON is never embedded in HTML.
    internal static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The spec's schema JSON: <c>{"type":"struct","schema-id":N,"identifier-field-ids":[…],"fields":[…]}</c>.</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", "struct");
        json.WriteNumber("schema-id", SchemaId);
        if (IdentifierFieldIds is { } identifiers)
        {
            json.WriteStartArray("identifier-field-ids");
            foreach (var id in identifiers)
            {
                json.WriteNumberValue(id);
            }
            json.WriteEndArray();
        }
        json.WriteStartArray("fields");
        foreach (var field in Fields)
        {
            json.WriteStartObject();
            json.WriteNumber("id", field.Id);
            json.WriteString("name", field.Name);
            json.WriteBoolean("required", field.Required);
            json.WriteString("type", field.Type);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The schema JSON as one line, as it goes into manifest and Parquet key-value metadata.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            WriteJson(json);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses schema JSON (see <see cref="WriteJson"/>).</summary>
    public static IcebergSchema Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Read(document.RootElement);
    }

    /// <summary>Reads a schema object, e.g. one of table metadata's <c>schemas</c>.</summary>
    public static IcebergSchema Read(JsonElement schema)
    {
        if (schema.GetProperty("type").GetString() != "struct")
        {
            throw new InvalidDataException("an Iceberg schema is a struct");
        }
        var fields = schema.GetProperty("fields").EnumerateArray().Select(f =>
        {
            var type = f.GetProperty("type");
            return new IcebergField(
                f.GetProperty("id").GetInt32(),
                f.GetProperty("name").GetString()!,
                f.GetProperty("required").GetBoolean(),
                type.ValueKind == JsonValueKind.String
                    ? type.GetString()!
                    : throw new NotSupportedException($"column {f.GetProperty("name")} has a nested type ({type}); only primitive columns are supported"));
        }).ToArray();
        var identifiers = schema.TryGetProperty("identifier-field-ids", out var ids) && ids.ValueKind == JsonValueKind.Array
            ? ids.EnumerateArray().Select(i => i.GetInt32()).ToArray()
            : null;
        return new IcebergSchema(schema.TryGetProperty("schema-id", out var id) ? id.GetInt32() : 0, fields, identifiers);
    }

    private static IReadOnlyList<IcebergField> Validate(IReadOnlyList<IcebergField> fields)
    {
        if (fields.GroupBy(f => f.Id).FirstOrDefault(g => g.Count() > 1) is { } id)
        {
            throw new ArgumentException($"Iceberg field id {id.Key} is used twice", nameof(fields));
        }
        if (fields.GroupBy(f => f.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } name)
        {
            throw new ArgumentException($"Iceberg field name {name.Key} is used twice", nameof(fields));
        }
        return fields;
    }

    private static IReadOnlyList<int>? ValidateIdentifiers(IReadOnlyList<int>? identifiers, IReadOnlyList<IcebergField> fields)
    {
        foreach (var id in identifiers ?? [])
        {
            var field = fields.FirstOrDefault(f => f.Id == id) ?? throw new ArgumentException($"identifier field id {id} is not a field of the schema", nameof(identifiers));
            if (!field.Required || field.Type is "float" or "double")
            {
                throw new ArgumentException($"identifier field {field.Name} must be required and not float or double", nameof(identifiers));
            }
        }
        return identifiers;
    }
}

using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// Maps DynamoDB attribute values to the text values of change events and back, without loss (documented in
/// the README, "DynamoDB sources"): <c>S</c> as is, <c>N</c> exactly as DynamoDB sent it (no floating point), <c>B</c> as
/// base64, <c>BOOL</c> as <c>true</c>/<c>false</c>, <c>NULL</c> as <c>null</c>, <c>SS</c>/<c>NS</c>/<c>BS</c> as a JSON
/// array of strings (numbers and base64 as strings), <c>M</c> and <c>L</c> as DynamoDB JSON (so nested numbers keep
/// their precision and nested types stay known). A column whose attribute has had more than one type is of type
/// <c>ANY</c>: its values are the attribute's DynamoDB JSON (<c>{"N":"5"}</c>).
/// </summary>
public static class DynamoItems
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Type of a column whose attribute has been seen with different DynamoDB types.</summary>
    public const string ANY = "ANY";

    /// <summary>The typed text of every attribute of an item.</summary>
    public static IReadOnlyList<DynamoAttribute> ToAttributes(Dictionary<string, AttributeValue>? item)
    {
        if (item is null)
        {
            return [];
        }
        var attributes = new DynamoAttribute[item.Count];
        var i = 0;
        foreach (var (name, value) in item)
        {
            var (type, text) = ToText(value);
            attributes[i++] = new DynamoAttribute(name, type, text);
        }
        return attributes;
    }

    /// <summary>The DynamoDB type and text of one value.</summary>
    public static (string Type, string Text) ToText(AttributeValue v)
    {
        if (v.S is not null)
        {
            return ("S", v.S);
        }
        if (v.N is not null)
        {
            return ("N", v.N);
        }
        if (v.B is not null)
        {
            return ("B", Convert.ToBase64String(v.B.ToArray()));
        }
        if (v.BOOL is { } b)
        {
            return ("BOOL", b ? "true" : "false");
        }
        if (v.NULL is true)
        {
            return ("NULL", "null");
        }
        if (v.SS is { Count: > 0 })
        {
            return ("SS", JsonSerializer.Serialize(v.SS, Relaxed));
        }
        if (v.NS is { Count: > 0 })
        {
            return ("NS", JsonSerializer.Serialize(v.NS, Relaxed));
        }
        if (v.BS is { Count: > 0 })
        {
            return ("BS", JsonSerializer.Serialize(v.BS.Select(m => Convert.ToBase64String(m.ToArray())), Relaxed));
        }
        if (v.M is not null || v.L is not null)
        {
            var type = v.M is not null ? "M" : "L";
            using var doc = JsonDocument.Parse(Json(w => DynamoJson.WriteAttributeValue(w, v)));
            return (type, doc.RootElement.GetProperty(type).GetRawText());
        }
        throw new InvalidDataException("attribute value has no type set (expected one of S N B BOOL NULL M L SS NS BS)");
    }

    /// <summary>The value a typed text stands for (the inverse of <see cref="ToText"/>; <c>ANY</c> reads DynamoDB JSON).</summary>
    public static AttributeValue FromText(string type, string text)
    {
        switch (type)
        {
            case "S": return new AttributeValue { S = text };
            case "N": return new AttributeValue { N = text };
            case "B": return new AttributeValue { B = new MemoryStream(Convert.FromBase64String(text)) };
            case "BOOL": return new AttributeValue { BOOL = text == "true" };
            case "NULL": return new AttributeValue { NULL = true };
            case "SS": return new AttributeValue { SS = JsonSerializer.Deserialize<List<string>>(text) };
            case "NS": return new AttributeValue { NS = JsonSerializer.Deserialize<List<string>>(text) };
            case "BS": return new AttributeValue { BS = JsonSerializer.Deserialize<List<string>>(text)!.Select(s => new MemoryStream(Convert.FromBase64String(s))).ToList() };
            case "M" or "L":
            {
                using var doc = JsonDocument.Parse($"{{\"{type}\":{text}}}");
                return DynamoJson.ReadAttributeValue(doc.RootElement);
            }
            case ANY:
            {
                using var doc = JsonDocument.Parse(text);
                return DynamoJson.ReadAttributeValue(doc.RootElement);
            }
            default: throw new InvalidDataException($"'{type}' is not a DynamoDB attribute type");
        }
    }

    /// <summary>DynamoDB JSON of a typed text: the value of an <c>ANY</c> column.</summary>
    public static string ToDynamoJson(string type, string text) => type switch
    {
        "S" or "N" or "B" => Json(w => { w.WriteStartObject(); w.WriteString(type, text); w.WriteEndObject(); }),
        "BOOL" or "NULL" => $"{{\"{type}\":{(type == "NULL" ? "true" : text)}}}",
        _ => $"{{\"{type}\":{text}}}",
    };

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Relaxed.Encoder }))
        {
            write(w);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>
/// The columns of a DynamoDB table as captured so far: the key attributes first (typed by the table's key
/// schema), then every other attribute in the order it was first seen. An item with a new attribute, or with an
/// attribute of a new type (the column becomes <c>ANY</c>), gives a new schema version.
/// </summary>
public sealed class DynamoTableShape
{
    private readonly string _table;
    private readonly List<ColumnSchema> _columns;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly int _keyCount;

    /// <summary>Starts from the key columns and the columns already known.</summary>
    public DynamoTableShape(string table, IReadOnlyList<ColumnSchema> columns, int keyCount)
    {
        _table = table;
        _keyCount = keyCount;
        _columns = [.. columns];
        for (var i = 0; i < _columns.Count; i++)
        {
            _index[_columns[i].Name] = i;
        }
        Schema = Build();
    }

    /// <summary>The current schema.</summary>
    public TableSchema Schema { get; private set; }

    /// <summary>All columns (keys first).</summary>
    public IReadOnlyList<ColumnSchema> Columns => _columns;

    /// <summary>Widens the schema for an item image; true when it changed.</summary>
    public bool Observe(IReadOnlyList<DynamoAttribute>? image)
    {
        var changed = false;
        foreach (var a in image ?? [])
        {
            if (!_index.TryGetValue(a.Name, out var i))
            {
                _index[a.Name] = _columns.Count;
                _columns.Add(new ColumnSchema(a.Name, a.Type));
                changed = true;
            }
            else if (_columns[i].Type != a.Type && _columns[i].Type != DynamoItems.ANY && i >= _keyCount)
            {
                _columns[i] = _columns[i] with { Type = DynamoItems.ANY };
                changed = true;
            }
        }
        if (changed)
        {
            Schema = Build();
        }
        return changed;
    }

    /// <summary>The row of an image under the current schema (missing attributes are null); null for no image.</summary>
    public string?[]? Row(IReadOnlyList<DynamoAttribute>? image)
    {
        if (image is null)
        {
            return null;
        }
        var row = new string?[_columns.Count];
        foreach (var a in image)
        {
            var i = _index[a.Name];
            row[i] = _columns[i].Type == DynamoItems.ANY ? DynamoItems.ToDynamoJson(a.Type, a.Value) : a.Value;
        }
        return row;
    }

    private TableSchema Build() => new(_table, [.. _columns], Enumerable.Range(0, _keyCount).ToArray());
}

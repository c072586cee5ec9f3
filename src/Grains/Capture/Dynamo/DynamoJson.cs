using System.Text.Json;
using Amazon.DynamoDBv2.Model;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// DynamoDB JSON, the wire form of an attribute value: an object with exactly one member named by the type —
/// <c>{"S":"x"}</c>, <c>{"N":"1.5"}</c>, <c>{"B":"base64"}</c>, <c>{"BOOL":true}</c>, <c>{"NULL":true}</c>,
/// <c>{"M":{...}}</c>, <c>{"L":[...]}</c>, <c>{"SS":[...]}</c>, <c>{"NS":["1"]}</c>, <c>{"BS":["base64"]}</c>.
/// Numbers stay the exact strings DynamoDB sent (up to 38 digits, never parsed); binary becomes a
/// <see cref="MemoryStream"/>. An empty object <c>{}</c> reads as an empty map: that is how DynamoDB Local's stream
/// records carry <c>{"M":{}}</c>.
/// </summary>
public static class DynamoJson
{
    /// <summary>Reads one attribute value.</summary>
    /// <exception cref="InvalidDataException">The element is not a one-member object of a known type.</exception>
    public static AttributeValue ReadAttributeValue(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"a DynamoDB attribute value is a JSON object, not {e.ValueKind}");
        }
        using var members = e.EnumerateObject();
        if (!members.MoveNext())
        {
            // DynamoDB Local (3.x) writes an empty map in stream records as {} instead of {"M":{}}. No other type
            // can lose its member that way (sets are never empty; an empty list stays {"L":[]}).
            return new AttributeValue { M = [] };
        }
        var member = members.Current;
        if (members.MoveNext())
        {
            throw new InvalidDataException($"a DynamoDB attribute value has exactly one type member, not '{member.Name}' and '{members.Current.Name}'");
        }
        var v = member.Value;
        return member.Name switch
        {
            "S" => new AttributeValue { S = v.GetString() },
            "N" => new AttributeValue { N = v.GetString() },
            "B" => new AttributeValue { B = new MemoryStream(v.GetBytesFromBase64()) },
            "BOOL" => new AttributeValue { BOOL = v.GetBoolean() },
            "NULL" => v.GetBoolean()
                ? new AttributeValue { NULL = true }
                : throw new InvalidDataException("a DynamoDB NULL attribute value is {\"NULL\":true}, not false"),
            "M" => new AttributeValue { M = ReadItem(v) },
            "L" => new AttributeValue { L = v.EnumerateArray().Select(ReadAttributeValue).ToList() },
            "SS" => new AttributeValue { SS = v.EnumerateArray().Select(s => s.GetString()!).ToList() },
            "NS" => new AttributeValue { NS = v.EnumerateArray().Select(s => s.GetString()!).ToList() },
            "BS" => new AttributeValue { BS = v.EnumerateArray().Select(b => new MemoryStream(b.GetBytesFromBase64())).ToList() },
            _ => throw new InvalidDataException($"'{member.Name}' is not a DynamoDB attribute type (expected S N B BOOL NULL M L SS NS BS)"),
        };
    }

    /// <summary>Reads an item (or map): a JSON object of attribute name to attribute value.</summary>
    public static Dictionary<string, AttributeValue> ReadItem(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"a DynamoDB item is a JSON object, not {e.ValueKind}");
        }
        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            item[p.Name] = ReadAttributeValue(p.Value);
        }
        return item;
    }

    /// <summary>
    /// Writes one attribute value. The type is the first one set of S, N, B, BOOL, NULL (only when true), M, L,
    /// SS, NS, BS (an empty map or list counts as set, as in the SDK: <c>IsMSet</c>/<c>IsLSet</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">No type is set.</exception>
    public static void WriteAttributeValue(Utf8JsonWriter w, AttributeValue v)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(v);
        w.WriteStartObject();
        if (v.S is not null)
        {
            w.WriteString("S", v.S);
        }
        else if (v.N is not null)
        {
            w.WriteString("N", v.N);
        }
        else if (v.B is not null)
        {
            w.WriteBase64String("B", v.B.ToArray());
        }
        else if (v.BOOL is { } b)
        {
            w.WriteBoolean("BOOL", b);
        }
        else if (v.NULL is true)
        {
            w.WriteBoolean("NULL", true);
        }
        else if (v.IsMSet)
        {
            w.WritePropertyName("M");
            WriteItem(w, v.M);
        }
        else if (v.IsLSet)
        {
            w.WriteStartArray("L");
            foreach (var element in v.L)
            {
                WriteAttributeValue(w, element);
            }
            w.WriteEndArray();
        }
        else if (v.IsSSSet)
        {
            WriteStrings(w, "SS", v.SS);
        }
        else if (v.IsNSSet)
        {
            WriteStrings(w, "NS", v.NS);
        }
        else if (v.IsBSSet)
        {
            w.WriteStartArray("BS");
            foreach (var m in v.BS)
            {
                w.WriteBase64StringValue(m.ToArray());
            }
            w.WriteEndArray();
        }
        else
        {
            throw new InvalidDataException("attribute value has no type set (expected one of S N B BOOL NULL M L SS NS BS)");
        }
        w.WriteEndObject();
    }

    /// <summary>Writes an item (or map) as a JSON object of attribute name to attribute value.</summary>
    public static void WriteItem(Utf8JsonWriter w, IReadOnlyDictionary<string, AttributeValue> item)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(item);
        w.WriteStartObject();
        foreach (var (name, value) in item)
        {
            w.WritePropertyName(name);
            WriteAttributeValue(w, value);
        }
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string type, List<string> values)
    {
        w.WriteStartArray(type);
        foreach (var s in values)
        {
            w.WriteStringValue(s);
        }
        w.WriteEndArray();
    }
}

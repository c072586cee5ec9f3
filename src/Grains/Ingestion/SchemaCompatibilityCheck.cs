using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Whether a new schema keeps every event valid under the old one valid (<see cref="SchemaCompatibility.Compatible"/>,
/// as Nakadi's compatible mode): a structural comparison, keyword by keyword, recursively over <c>properties</c>,
/// <c>additionalProperties</c> and <c>items</c>. Allowed: new optional properties, a type set that grows
/// (<c>["string","null"]</c> in any order, <c>integer</c> widened to <c>number</c>), an <c>enum</c> that gains values,
/// bounds that loosen. Refused, naming each: a property removed, a type set that loses a type, a property newly
/// required, an object newly closed, an <c>enum</c> or <c>const</c> that loses or gains a restriction, bounds that
/// tighten (<c>minimum</c>, <c>maximum</c>, their exclusive forms, <c>multipleOf</c>, <c>minLength</c>,
/// <c>maxLength</c>, <c>minItems</c>, <c>maxItems</c>, <c>minProperties</c>, <c>maxProperties</c>,
/// <c>uniqueItems</c>), and any change to <c>pattern</c>, <c>format</c>, <c>oneOf</c>, <c>anyOf</c>, <c>allOf</c>,
/// <c>not</c> or <c>$ref</c> (whether those accept every earlier event cannot be decided here).
/// </summary>
public static class SchemaCompatibilityCheck
{
    /// <summary>The reasons <paramref name="next"/> breaks compatibility with <paramref name="previous"/> (empty: compatible).</summary>
    public static IReadOnlyList<string> Problems(string previous, string next)
    {
        using var a = JsonDocument.Parse(previous);
        using var b = JsonDocument.Parse(next);
        var problems = new List<string>();
        Compare(a.RootElement, b.RootElement, "", problems);
        return problems;
    }

    private static readonly string[] Lower = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"];
    private static readonly string[] Upper = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"];
    private static readonly string[] Opaque = ["pattern", "format", "oneOf", "anyOf", "allOf", "not", "$ref", "if", "then", "else", "patternProperties", "dependentSchemas", "contains"];

    private static void Compare(JsonElement before, JsonElement after, string path, List<string> problems)
    {
        var at = path.Length == 0 ? "/" : path;
        // Boolean schemas: false accepted nothing, so anything may follow it; true (or {}) accepted anything, so only
        // true or {} may follow it; false refuses what every other schema accepted.
        if (before.ValueKind == JsonValueKind.False)
        {
            return;
        }
        if (after.ValueKind == JsonValueKind.False)
        {
            problems.Add($"{at}: becomes false (refuses every value)");
            return;
        }
        if (IsAny(before))
        {
            if (!IsAny(after))
            {
                problems.Add($"{at}: accepted any value and is now constrained");
            }
            return;
        }
        if (before.ValueKind != JsonValueKind.Object || after.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        CompareTypes(before, after, at, problems);
        CompareValues(before, after, at, problems);
        foreach (var keyword in Lower)
        {
            if (Number(after, keyword) is { } now && (Number(before, keyword) is not { } was || now > was))
            {
                problems.Add($"{at}: {keyword} tightens from {Number(before, keyword)?.ToString(CultureInfo.InvariantCulture) ?? "none"} to {now.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        foreach (var keyword in Upper)
        {
            if (Number(after, keyword) is { } now && (Number(before, keyword) is not { } was || now < was))
            {
                problems.Add($"{at}: {keyword} tightens from {Number(before, keyword)?.ToString(CultureInfo.InvariantCulture) ?? "none"} to {now.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        if (Number(after, "multipleOf") is { } step && (Number(before, "multipleOf") is not { } old || old % step != 0))
        {
            problems.Add($"{at}: multipleOf becomes {step.ToString(CultureInfo.InvariantCulture)}");
        }
        if (Flag(after, "uniqueItems") && !Flag(before, "uniqueItems"))
        {
            problems.Add($"{at}: uniqueItems becomes true");
        }
        foreach (var keyword in Opaque)
        {
            if (!SameJson(Get(before, keyword), Get(after, keyword)))
            {
                problems.Add($"{at}: {keyword} changes");
            }
        }
        var oldRequired = Strings(before, "required");
        foreach (var name in Strings(after, "required").Where(r => !oldRequired.Contains(r)))
        {
            problems.Add($"{path}/{name}: becomes required");
        }
        CompareAdditional(before, after, at, path, problems);
        if (Get(before, "items") is { } oldItems)
        {
            Compare(oldItems, Get(after, "items") ?? True, $"{path}/items", problems);
        }
        else if (Get(after, "items") is { } newItems && !IsAny(newItems))
        {
            problems.Add($"{at}: items becomes constrained");
        }
        if (Get(before, "properties") is not { ValueKind: JsonValueKind.Object } oldProperties)
        {
            return;
        }
        var newProperties = Get(after, "properties");
        foreach (var property in oldProperties.EnumerateObject())
        {
            if (newProperties is not { ValueKind: JsonValueKind.Object } properties || !properties.TryGetProperty(property.Name, out var next))
            {
                problems.Add($"{path}/{property.Name}: removed");
                continue;
            }
            Compare(property.Value, next, $"{path}/{property.Name}", problems);
        }
    }

    /// <summary>The type set may only grow; <c>integer</c> is inside <c>number</c>.</summary>
    private static void CompareTypes(JsonElement before, JsonElement after, string at, List<string> problems)
    {
        if (Types(after) is not { } now)
        {
            return;
        }
        var was = Types(before);
        var lost = was is null ? ["(any)"] : was.Where(t => !now.Contains(t) && !(t == "integer" && now.Contains("number"))).ToArray();
        if (lost.Length > 0)
        {
            problems.Add($"{at}: type changes from {Describe(was)} to {Describe(now)}");
        }
    }

    /// <summary><c>enum</c> may only gain values; <c>const</c> may not change or appear.</summary>
    private static void CompareValues(JsonElement before, JsonElement after, string at, List<string> problems)
    {
        if (Get(after, "enum") is { ValueKind: JsonValueKind.Array } values)
        {
            var allowed = values.EnumerateArray().Select(Canonical).ToHashSet(StringComparer.Ordinal);
            if (Get(before, "const") is { } single)
            {
                if (!allowed.Contains(Canonical(single)))
                {
                    problems.Add($"{at}: enum leaves out the former const {single.GetRawText()}");
                }
            }
            else if (Get(before, "enum") is not { ValueKind: JsonValueKind.Array } old)
            {
                problems.Add($"{at}: enum is added");
            }
            else
            {
                foreach (var value in old.EnumerateArray().Where(v => !allowed.Contains(Canonical(v))))
                {
                    problems.Add($"{at}: enum drops {value.GetRawText()}");
                }
            }
        }
        if (Get(after, "const") is { } constant && (Get(before, "const") is not { } was || Canonical(was) != Canonical(constant)))
        {
            problems.Add($"{at}: const becomes {constant.GetRawText()}");
        }
    }

    /// <summary>An object open to other properties may not close; a schema for them may only loosen.</summary>
    private static void CompareAdditional(JsonElement before, JsonElement after, string at, string path, List<string> problems)
    {
        var oldAdditional = Get(before, "additionalProperties") ?? True;
        var newAdditional = Get(after, "additionalProperties") ?? True;
        if (newAdditional.ValueKind == JsonValueKind.False && oldAdditional.ValueKind != JsonValueKind.False)
        {
            problems.Add($"{at}: additionalProperties becomes false");
            return;
        }
        Compare(oldAdditional, newAdditional, $"{path}/additionalProperties", problems);
    }

    private static readonly JsonElement True = JsonDocument.Parse("true").RootElement.Clone();

    private static bool IsAny(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.True || schema.ValueKind == JsonValueKind.Object && !schema.EnumerateObject().Any();

    private static JsonElement? Get(JsonElement schema, string keyword) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty(keyword, out var value) ? value : null;

    private static decimal? Number(JsonElement schema, string keyword) =>
        Get(schema, keyword) is { ValueKind: JsonValueKind.Number } value && value.TryGetDecimal(out var number) ? number : null;

    private static bool Flag(JsonElement schema, string keyword) => Get(schema, keyword) is { ValueKind: JsonValueKind.True };

    private static HashSet<string>? Types(JsonElement schema) => Get(schema, "type") switch
    {
        { ValueKind: JsonValueKind.String } one => [one.GetString()!],
        { ValueKind: JsonValueKind.Array } many => many.EnumerateArray().Select(t => t.ToString()).ToHashSet(StringComparer.Ordinal),
        _ => null,
    };

    private static string Describe(HashSet<string>? types) => types is null ? "any" : types.Count == 1 ? types.First() : "[" + string.Join(", ", types.Order(StringComparer.Ordinal)) + "]";

    private static bool SameJson(JsonElement? a, JsonElement? b) => (a, b) switch
    {
        (null, null) => true,
        ({ } x, { } y) => Canonical(x) == Canonical(y),
        _ => false,
    };

    /// <summary>A JSON value's text with object members in order, so equal values compare equal.</summary>
    private static string Canonical(JsonElement value) => Sort(JsonNode.Parse(value.GetRawText()))?.ToJsonString() ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value?.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(x => Sort(x?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };

    private static HashSet<string> Strings(JsonElement schema, string keyword) =>
        Get(schema, keyword) is { ValueKind: JsonValueKind.Array } values
            ? values.EnumerateArray().Select(x => x.ToString()).ToHashSet(StringComparer.Ordinal)
            : [];
}

using System.Text.Json;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Whether a new schema keeps every event valid under the old one valid (<see cref="SchemaCompatibility.Compatible"/>):
/// object schemas may gain optional properties; no property may disappear or change type, nothing may become
/// required, and a schema that allowed additional properties may not start refusing them. Checked recursively over
/// <c>properties</c>.
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
        if (before.ValueKind == JsonValueKind.True || before.ValueKind == JsonValueKind.Object && !before.EnumerateObject().Any())
        {
            if (after.ValueKind != JsonValueKind.True && !(after.ValueKind == JsonValueKind.Object && !after.EnumerateObject().Any()))
            {
                problems.Add($"{at}: accepted any value and is now constrained");
            }
            return;
        }
        if (before.ValueKind != JsonValueKind.Object || after.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (Text(before, "type") is { } oldType && Text(after, "type") != oldType)
        {
            problems.Add($"{at}: type changes from {oldType} to {Text(after, "type") ?? "unspecified"}");
        }
        var oldRequired = Strings(before, "required");
        foreach (var name in Strings(after, "required").Where(r => !oldRequired.Contains(r)))
        {
            problems.Add($"{path}/{name}: becomes required");
        }
        var oldOpen = !before.TryGetProperty("additionalProperties", out var oa) || oa.ValueKind != JsonValueKind.False;
        var newOpen = !after.TryGetProperty("additionalProperties", out var na) || na.ValueKind != JsonValueKind.False;
        if (oldOpen && !newOpen)
        {
            problems.Add($"{at}: additionalProperties becomes false");
        }
        if (!before.TryGetProperty("properties", out var oldProperties) || oldProperties.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        after.TryGetProperty("properties", out var newProperties);
        foreach (var property in oldProperties.EnumerateObject())
        {
            if (newProperties.ValueKind != JsonValueKind.Object || !newProperties.TryGetProperty(property.Name, out var next))
            {
                problems.Add($"{path}/{property.Name}: removed");
                continue;
            }
            Compare(property.Value, next, $"{path}/{property.Name}", problems);
        }
    }

    private static string? Text(JsonElement schema, string keyword) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty(keyword, out var v) ? v.GetRawText() : null;

    private static HashSet<string> Strings(JsonElement schema, string keyword) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty(keyword, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet(StringComparer.Ordinal)
            : [];
}

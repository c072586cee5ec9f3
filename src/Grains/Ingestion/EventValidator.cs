using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Checks business events: parseable JSON objects with <c>metadata.eid</c> (a UUID) and <c>metadata.occurred_at</c>
/// (RFC 3339), valid against the event type's JSON Schema when there is one. Errors name the field
/// (JSON Pointer) and the rule.
/// </summary>
public sealed class EventValidator
{
    private readonly JsonSchema? _schema;

    /// <summary>A validator for <paramref name="schema"/> (JSON text); null validates metadata only.</summary>
    public EventValidator(string? schema)
    {
        _schema = schema is null ? null : Compile(schema);
    }

    /// <summary>Parses a schema; throws <see cref="EventTypeException"/> naming the problem.</summary>
    public static JsonSchema Compile(string schema)
    {
        try
        {
            // A registry of its own: a schema's $id is registered there, never process-wide, so one event type's $id
            // neither collides with another's nor with the same type's next version.
            return JsonSchema.FromText(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception e) when (e is JsonException or JsonSchemaException or ArgumentException or InvalidOperationException)
        {
            throw new EventTypeException([$"schema is not a valid JSON Schema: {e.Message}"]);
        }
    }

    /// <summary>The event's identity and time, or the reasons it is invalid.</summary>
    public (BusinessEvent? Event, IReadOnlyList<string> Errors) Check(string text)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return (null, [$"not JSON: {e.Message}"]);
        }
        var errors = new List<string>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, [$"/: must be an object, not {root.ValueKind}"]);
        }
        string? eid = null;
        DateTimeOffset occurredAt = default;
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            errors.Add("/metadata: required object with eid and occurred_at");
        }
        else
        {
            if (!metadata.TryGetProperty("eid", out var e) || e.ValueKind != JsonValueKind.String || !Guid.TryParse(e.GetString(), out var guid))
            {
                errors.Add("/metadata/eid: required, a UUID");
            }
            else
            {
                // One spelling per UUID (lower case, no braces), so repeats are found however they are written.
                eid = guid.ToString("D");
            }
            if (!metadata.TryGetProperty("occurred_at", out var t) || t.ValueKind != JsonValueKind.String || !Rfc3339.TryParse(t.GetString(), out occurredAt))
            {
                errors.Add("/metadata/occurred_at: required, an RFC 3339 date-time with an offset (e.g. 2026-11-27T10:15:00Z)");
            }
        }
        if (_schema is not null)
        {
            var result = _schema.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!result.IsValid)
            {
                errors.AddRange((result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(x => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {x.Value}")));
                if (errors.Count == 0)
                {
                    errors.Add("/: does not match the event type's schema");
                }
            }
        }
        return errors.Count > 0 ? (null, errors) : (new BusinessEvent(eid!, occurredAt.ToUniversalTime(), Canonical(root)), []);
    }

    private static string Canonical(JsonElement root) => JsonNode.Parse(root.GetRawText())!.ToJsonString();
}

/// <summary>An accepted business event: identity, event time and its JSON.</summary>
public sealed record BusinessEvent(string Eid, DateTimeOffset OccurredAt, string Json);

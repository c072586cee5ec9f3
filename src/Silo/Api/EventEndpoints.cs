using System.Text.Json;
using Saiki.Orleans.Client;
using Saiki.Orleans.Ingestion;

namespace Saiki.Orleans.Silo.Api;

/// <summary>REST for business events: event types with JSON schemas, posting events, and Kafka topics as sources.</summary>
public static class EventEndpoints
{
    /// <summary>Maps <c>/event-types</c> and <c>/api/sources/kafka</c>.</summary>
    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        var types = app.MapGroup("/event-types").WithTags("Events").RequireAuthorization(ApiAccess.Read);

        types.MapPut("/{name}", async (string name, EventTypeRequest request, SaikiClient client) =>
            {
                if (request.Schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                {
                    const string missing = "schema is required: the JSON Schema of the whole event (an object, or a boolean)";
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["schema"] = [missing] }, detail: missing, title: "The event type was not changed.");
                }
                try
                {
                    return Results.Ok(await client.DefineEventTypeAsync(new EventTypeDefinition(name, request.Schema.GetRawText(), request.Compatibility)));
                }
                catch (EventTypeException e)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["schema"] = e.Problems }, detail: e.Message, title: "The event type was not changed.");
                }
            })
            .WithName("DefineEventType")
            .WithSummary("Create an event type, or give it a new schema")
            .WithDescription("The schema is a JSON Schema of the whole event; every event also needs metadata.eid (UUID) and metadata.occurred_at (RFC 3339). With compatibility 'Compatible' every event valid before must stay valid: widening passes (new optional properties, more types, integer to number, more enum values, looser bounds); anything that narrows (a removed property, a lost type, a newly required property, a closed object, tighter bounds or enum, a changed pattern, format or combinator) is refused, naming each.")
            .Produces<EventTypeInfo>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        types.MapGet("/{name}", async (string name, SaikiClient client) =>
                await client.GetEventTypeAsync(name) is { } info ? Results.Ok(info) : Results.NotFound())
            .WithName("GetEventType")
            .WithSummary("An event type: schema, version, counters")
            .Produces<EventTypeInfo>()
            .Produces(StatusCodes.Status404NotFound);

        types.MapPost("/{name}/events", async (string name, JsonElement body, SaikiClient client) =>
            {
                if (await client.GetEventTypeAsync(name) is null)
                {
                    return Results.NotFound();
                }
                if (body.ValueKind != JsonValueKind.Array)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["the body must be a JSON array of events"] });
                }
                var results = await client.PublishEventsAsync(name, body.EnumerateArray().Select(e => e.GetRawText()).ToArray());
                return results.Any(r => r.Outcome is EventOutcome.Rejected or EventOutcome.Aborted)
                    ? Results.UnprocessableEntity(results)
                    : Results.Ok(results);
            })
            .WithName("PublishEvents")
            .WithSummary("Publish a batch of events")
            .WithDescription("Each event is validated against the type's schema and metadata rules. All valid: 200 once the new events are durable in the lake (repeats of accepted eids are reported as Duplicate). Any invalid: 422 with each event's outcome (Rejected with the errors naming the field, or Aborted) and nothing written.")
            .Produces<EventResult[]>()
            .Produces<EventResult[]>(StatusCodes.Status422UnprocessableEntity)
            .Produces(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiAccess.Write);

        var kafka = app.MapGroup("/api/sources/kafka").WithTags("Sources").RequireAuthorization(ApiAccess.Read);
        kafka.MapPost("/", async (KafkaSourceSpec spec, SaikiClient client) =>
            {
                try
                {
                    var info = await client.RegisterKafkaSourceAsync(spec);
                    return Results.Created($"/api/sources/kafka/{info.Id}", info);
                }
                catch (EventTypeException e)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["registration"] = e.Problems }, detail: e.Message, title: "The source registration was refused; nothing was created.");
                }
            })
            .WithName("RegisterKafkaSource")
            .WithSummary("Consume a Kafka topic of business events into the lake, cleansed")
            .WithDescription("Duplicates by metadata.eid are dropped (bounded, persisted window), events are reordered by metadata.occurred_at up to allowedLateness, later ones go to _kafka/{id}/late/ with the reason, and offsets are committed only once the events below them are durable.")
            .Produces<KafkaSourceInfo>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);
        kafka.MapGet("/{id}", async (string id, HttpContext http, SaikiClient client) =>
                await client.GetKafkaSourceAsync(id) is { } info ? Results.Ok(info with { Error = ApiAccess.Detail(http, info.Error) }) : Results.NotFound())
            .WithName("GetKafkaSource")
            .WithSummary("A Kafka source: consumed, written, duplicates, late, invalid, watermark")
            .Produces<KafkaSourceInfo>()
            .Produces(StatusCodes.Status404NotFound);
        kafka.MapDelete("/{id}", async (string id, SaikiClient client) =>
                await client.RemoveKafkaSourceAsync(id) ? Results.NoContent() : Results.NotFound())
            .WithName("RemoveKafkaSource")
            .WithSummary("Stop consuming and forget the source (lake files stay)")
            .Produces(StatusCodes.Status204NoContent)
            .Produces(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiAccess.Write);
        return app;
    }
}

/// <summary>Body of <c>PUT /event-types/{name}</c>.</summary>
/// <param name="Schema">JSON Schema of the events.</param>
/// <param name="Compatibility">What later schemas may change.</param>
public sealed record EventTypeRequest(JsonElement Schema, SchemaCompatibility Compatibility = SchemaCompatibility.Compatible);

using Orleans;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// A type of business event services publish directly (Nakadi style): every event carries
/// <c>metadata.eid</c> (a UUID, its identity), <c>metadata.occurred_at</c> (RFC 3339) and is validated against
/// <see cref="Schema"/> (JSON Schema, draft 2020-12 unless it says otherwise).
/// </summary>
/// <param name="Name">Event type name (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).</param>
/// <param name="Schema">JSON Schema of the whole event, as JSON text.</param>
/// <param name="Compatibility">What a later schema may change.</param>
[GenerateSerializer, Immutable, Alias("saiki.event-type-definition")]
public sealed record EventTypeDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] string Schema,
    [property: Id(2)] SchemaCompatibility Compatibility = SchemaCompatibility.Compatible);

/// <summary>What a new version of an event type's schema may change.</summary>
public enum SchemaCompatibility
{
    /// <summary>Anything.</summary>
    None,
    /// <summary>Only additions: new optional properties. No property removed, no type changed, nothing newly required,
    /// so every event valid before stays valid.</summary>
    Compatible,
}

/// <summary>An event type with its schema versions and counters.</summary>
[GenerateSerializer, Immutable, Alias("saiki.event-type-info")]
public sealed record EventTypeInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] SchemaCompatibility Compatibility,
    [property: Id(2)] int SchemaVersion,
    [property: Id(3)] string Schema,
    [property: Id(4)] long Accepted,
    [property: Id(5)] long Rejected,
    [property: Id(6)] long Duplicates,
    [property: Id(7)] long Files);

/// <summary>What happened to one event of a published batch.</summary>
[GenerateSerializer, Immutable, Alias("saiki.event-result")]
public sealed record EventResult(
    [property: Id(0)] int Index,
    [property: Id(1)] string? Eid,
    [property: Id(2)] EventOutcome Outcome,
    [property: Id(3)] IReadOnlyList<string> Errors);

/// <summary>Outcome of one event.</summary>
public enum EventOutcome
{
    /// <summary>Durable in the lake.</summary>
    Accepted,
    /// <summary>Its eid was accepted before; not written again.</summary>
    Duplicate,
    /// <summary>Invalid: the errors say why.</summary>
    Rejected,
    /// <summary>Valid, but not written because another event of the batch was invalid (a batch is all or nothing).</summary>
    Aborted,
}

/// <summary>A schema change was refused, or a definition is invalid; each problem named.</summary>
[GenerateSerializer, Alias("saiki.event-type-exception")]
public sealed class EventTypeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventTypeException(IReadOnlyList<string> problems) : base(string.Join("; ", problems)) => Problems = problems.ToArray();

    /// <summary>Each problem.</summary>
    [Id(0)]
    public string[] Problems { get; private set; }
}

/// <summary>One event type (key = name): schema, validation, deduplication by eid and durable writing.</summary>
public interface IEventTypeGrain : IGrainWithStringKey
{
    /// <summary>Creates the type, or gives it a new schema version within its compatibility mode.</summary>
    Task<EventTypeInfo> DefineAsync(EventTypeDefinition definition);

    /// <summary>The type; null when not defined.</summary>
    Task<EventTypeInfo?> GetAsync();

    /// <summary>
    /// Validates a batch of events (JSON texts). All valid: the new ones are durable in the lake when this returns,
    /// repeats of accepted eids are reported as duplicates. Any invalid: nothing is written.
    /// </summary>
    Task<IReadOnlyList<EventResult>> PublishAsync(IReadOnlyList<string> events);
}

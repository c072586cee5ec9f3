using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// One event type: its schema versions, validation of posted batches (all or nothing), deduplication by eid over a
/// persisted window, and the durable write of accepted events to the lake before the caller hears back.
/// </summary>
public sealed partial class EventTypeGrain(
    [PersistentState("event-type", SaikiNames.Storage)] IPersistentState<EventTypeState> state,
    ILakeStore store,
    LakeLayout layout) : Grain, IEventTypeGrain
{
    /// <summary>Event ids remembered per type to drop repeats.</summary>
    public const int DEDUP_WINDOW = 100_000;

    private readonly EventFiles _files = new(store, layout);
    private EventValidator? _validator;
    private EidWindow? _eids;

    /// <inheritdoc />
    public async Task<EventTypeInfo> DefineAsync(EventTypeDefinition definition)
    {
        var name = this.GetPrimaryKeyString();
        var problems = new List<string>();
        if (SaikiIds.Problem(IdKind.EventType, name) is { } nameProblem)
        {
            problems.Add(nameProblem);
        }
        else if (definition.Name != name)
        {
            problems.Add($"event type name '{definition.Name}' differs from the name '{name}' it is defined under");
        }
        if (!Enum.IsDefined(definition.Compatibility))
        {
            problems.Add($"compatibility mode {(int)definition.Compatibility} is unknown: use {string.Join(" or ", Enum.GetNames<SchemaCompatibility>())}");
        }
        EventValidator.Compile(definition.Schema);
        var s = state.State;
        if (s.Definition is { } current && current.Compatibility == SchemaCompatibility.Compatible)
        {
            problems.AddRange(SchemaCompatibilityCheck.Problems(current.Schema, definition.Schema).Select(p => $"incompatible with schema version {s.SchemaVersion}: {p}"));
        }
        if (problems.Count > 0)
        {
            throw new EventTypeException(problems);
        }
        if (s.Definition?.Schema != definition.Schema)
        {
            s.SchemaVersion++;
        }
        s.Definition = definition;
        _validator = null;
        await state.WriteStateAsync();
        return Info();
    }

    /// <inheritdoc />
    public Task<EventTypeInfo?> GetAsync() => Task.FromResult(state.State.Definition is null ? null : Info());

    /// <inheritdoc />
    public async Task<IReadOnlyList<EventResult>> PublishAsync(IReadOnlyList<string> events)
    {
        var s = state.State;
        var definition = s.Definition ?? throw new EventTypeException([$"event type '{this.GetPrimaryKeyString()}' is not defined"]);
        _validator ??= new EventValidator(definition.Schema);
        if (_eids is null)
        {
            _eids = new EidWindow(DEDUP_WINDOW);
            _eids.Load(s.Eids);
        }
        var checks = events.Select(_validator.Check).ToArray();
        if (checks.Any(c => c.Errors.Count > 0))
        {
            s.Rejected += checks.Count(c => c.Errors.Count > 0);
            return checks.Select((c, i) => new EventResult(i, c.Event?.Eid ?? EidOf(events[i]),
                c.Errors.Count > 0 ? EventOutcome.Rejected : EventOutcome.Aborted, c.Errors)).ToArray();
        }
        var results = new EventResult[checks.Length];
        var fresh = new List<BusinessEvent>();
        var inBatch = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < checks.Length; i++)
        {
            var e = checks[i].Event!;
            var repeat = _eids.Contains(e.Eid) || !inBatch.Add(e.Eid);
            results[i] = new EventResult(i, e.Eid, repeat ? EventOutcome.Duplicate : EventOutcome.Accepted, []);
            if (!repeat)
            {
                fresh.Add(e);
            }
        }
        if (fresh.Count > 0)
        {
            // Durable first (same key on a retry: the sequence only moves after success), then remembered.
            await _files.WriteAsync(_files.PostedPrefix(definition.Name), s.Batches + 1, fresh.Select(e => (e.OccurredAt, e.Json)).ToArray());
            foreach (var e in fresh)
            {
                _eids.Add(e.Eid);
            }
            s.Batches++;
            s.Files++;
            s.Accepted += fresh.Count;
        }
        s.Duplicates += checks.Length - fresh.Count;
        s.Eids = _eids.Save();
        await state.WriteStateAsync();
        return results;
    }

    private EventTypeInfo Info()
    {
        var s = state.State;
        return new EventTypeInfo(s.Definition!.Name, s.Definition.Compatibility, s.SchemaVersion, s.Definition.Schema, s.Accepted, s.Rejected, s.Duplicates, s.Files);
    }

    private static string? EidOf(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return document.RootElement.TryGetProperty("metadata", out var m) && m.TryGetProperty("eid", out var e) ? e.ToString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

}

/// <summary>An event type's stored state.</summary>
[GenerateSerializer, Alias("saiki.event-type-state")]
public sealed class EventTypeState
{
    [Id(0)] public EventTypeDefinition? Definition { get; set; }
    [Id(1)] public int SchemaVersion { get; set; }
    [Id(2)] public List<string> Eids { get; set; } = [];
    [Id(3)] public long Batches { get; set; }
    [Id(4)] public long Accepted { get; set; }
    [Id(5)] public long Rejected { get; set; }
    [Id(6)] public long Duplicates { get; set; }
    [Id(7)] public long Files { get; set; }
}

using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// One event type: its schema versions, validation of posted batches (all or nothing), deduplication by eid over a
/// persisted window, and the durable write of accepted events to the lake before the caller hears back: one file
/// per accepted batch, in the type's Iceberg event table (<see cref="EventTable"/>, the default) or as JSON Lines
/// (<see cref="EventFiles"/>, when <c>Saiki:Lake:Format</c> or <c>TableFormats["_events/{type}"]</c> says
/// <c>JsonLines</c> or <c>Parquet</c>). A batch whose state write failed after the events were written
/// deactivates the grain: the next activation finds the batch in the table and remembers its ids.
/// </summary>
public sealed partial class EventTypeGrain(
    [PersistentState("event-type", SaikiNames.Storage)] IPersistentState<EventTypeState> state,
    ILakeStore store,
    LakeLayout layout,
    IOptions<LakeOptions> lake) : Grain, IEventTypeGrain
{
    /// <summary>Event ids remembered per type to drop repeats.</summary>
    public const int DEDUP_WINDOW = 100_000;

    private readonly EventFiles _files = new(store, layout);
    private EventValidator? _validator;
    private TableSchema? _columns;
    private EidWindow? _eids;
    private EventTable? _table;

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
        _columns = null;
        await state.WriteStateAsync();
        if (lake.Value.FormatOf($"{EventTable.PostedSource}/{name}") == LakeFormat.Iceberg)
        {
            await Table(name).ListAsync();
        }
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
        var iceberg = lake.Value.FormatOf($"{EventTable.PostedSource}/{definition.Name}") == LakeFormat.Iceberg;
        if (_eids is null)
        {
            var window = new EidWindow(DEDUP_WINDOW);
            window.Load(s.Eids);
            if (iceberg)
            {
                // The table's files are the window's record: the window saved last, then the files written since.
                window.Load(await Table(definition.Name).LoadEidsAsync(s.EidSnapshot, s.Batches, DEDUP_WINDOW));
                await RecoverAsync(definition.Name, window);
            }
            _eids = window;
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
            if (iceberg)
            {
                _columns ??= EventColumns.Posted(definition.Name, definition.Schema);
                await Table(definition.Name).WriteAsync(_columns, s.Batches + 1, fresh.Select(e => EventColumns.RowOf(_columns, e)).ToArray(), DateTimeOffset.UtcNow);
            }
            else
            {
                await _files.WriteAsync(_files.PostedPrefix(definition.Name), s.Batches + 1, fresh.Select(e => (e.OccurredAt, e.Json)).ToArray());
            }
            foreach (var e in fresh)
            {
                _eids.Add(e.Eid);
            }
            s.Batches++;
            s.Files++;
            s.Accepted += fresh.Count;
            s.EidsSinceSnapshot += fresh.Count;
        }
        s.Duplicates += checks.Length - fresh.Count;
        var replaced = 0L;
        if (!iceberg)
        {
            s.Eids = _eids.Save();
        }
        else if (fresh.Count > 0 && EventTable.SnapshotDue(DEDUP_WINDOW, s.EidsSinceSnapshot, s.Batches - s.EidSnapshot))
        {
            // The window is saved now and then, not with every batch: its cost follows what was accepted.
            await Table(definition.Name).SaveEidsAsync(s.Batches, _eids.Save());
            (replaced, s.EidSnapshot, s.EidsSinceSnapshot, s.Eids) = (s.EidSnapshot, s.Batches, 0, []);
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // The events may be durable while the state says otherwise: start again from the stored state (and,
            // for the event table, what it holds), not from this activation's memory.
            _eids = null;
            DeactivateOnIdle();
            throw;
        }
        if (replaced > 0)
        {
            await Table(definition.Name).DeleteEidsAsync(replaced);
        }
        return results;
    }

    private EventTable Table(string name) => _table ??= EventTable.Posted(GrainFactory, store, layout, name);

    /// <summary>Takes over the batches the event table holds beyond the saved state (written, then the state write failed or the silo died).</summary>
    private async Task RecoverAsync(string name, EidWindow window)
    {
        var s = state.State;
        var (sequence, eids, events) = await Table(name).RecoverAsync(s.Batches);
        if (sequence == s.Batches)
        {
            return;
        }
        foreach (var eid in eids)
        {
            window.Add(eid);
        }
        s.Files += sequence - s.Batches;
        s.Batches = sequence;
        s.Accepted += events;
        s.EidsSinceSnapshot += events;
        await state.WriteStateAsync();
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
    /// <summary>The write whose dedup window is saved in the event table's folder (0: none); the window is that plus the files since.</summary>
    [Id(8)] public long EidSnapshot { get; set; }
    /// <summary>Events written since <see cref="EidSnapshot"/>.</summary>
    [Id(9)] public long EidsSinceSnapshot { get; set; }
}

using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Ingestion;

/// <summary>The list of the lake's Iceberg event tables (see <see cref="IEventTablesGrain"/>).</summary>
public sealed class EventTablesGrain(
    [PersistentState("event-tables", SaikiNames.Storage)] IPersistentState<EventTablesState> state) : Grain, IEventTablesGrain
{
    /// <inheritdoc />
    public async Task AddAsync(EventTableName table)
    {
        if (!state.State.Tables.Contains(table))
        {
            state.State.Tables.Add(table);
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(EventTableName table)
    {
        if (state.State.Tables.Remove(table))
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<EventTableName>> ListAsync() => Task.FromResult<IReadOnlyList<EventTableName>>(state.State.Tables.ToArray());
}

/// <summary>Saved state of <see cref="EventTablesGrain"/>.</summary>
[GenerateSerializer]
public sealed class EventTablesState
{
    /// <summary>The event tables, in the order they were recorded.</summary>
    [Id(0)] public List<EventTableName> Tables { get; set; } = [];
}

using Orleans;
using Orleans.Concurrency;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// The Iceberg event tables of the lake (a single activation, key 0): one per event type posted over REST and one
/// per Kafka source. The REST catalog lists them from here, so nothing is activated for a name that is not one.
/// </summary>
[Alias("saiki.event-tables")]
public interface IEventTablesGrain : IGrainWithIntegerKey
{
    /// <summary>Records an event table (its committer's key parts); harmless when it is recorded.</summary>
    [Alias("add")]
    Task AddAsync(EventTableName table);

    /// <summary>Forgets an event table (its files stay in the lake).</summary>
    [Alias("remove")]
    Task RemoveAsync(EventTableName table);

    /// <summary>Every event table recorded.</summary>
    [Alias("list"), AlwaysInterleave]
    Task<IReadOnlyList<EventTableName>> ListAsync();
}

/// <summary>An event table: its committer's key is <c>{Source}|{Table}</c>; the catalog shows it as <c>Table</c> in namespace <c>Namespace</c>.</summary>
/// <param name="Source">Source part of the committer's key (<c>_events</c>, <c>_kafka/{source}</c>).</param>
/// <param name="Table">Table part of the committer's key (the event type, <c>events</c>).</param>
/// <param name="Namespace">Catalog namespace (<c>_events</c>, <c>_kafka</c>).</param>
/// <param name="Name">Catalog table name (the event type, the Kafka source id).</param>
[GenerateSerializer, Immutable, Alias("saiki.event-table-name")]
public sealed record EventTableName(
    [property: Id(0)] string Source,
    [property: Id(1)] string Table,
    [property: Id(2)] string Namespace,
    [property: Id(3)] string Name);

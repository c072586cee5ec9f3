using Orleans;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// An existing Kafka topic of JSON business events (Nakadi-style metadata: <c>metadata.eid</c>,
/// <c>metadata.occurred_at</c>, <c>metadata.event_type</c>) consumed into the lake with cleansing: duplicates by eid
/// dropped (a bounded, persisted window), events reordered by occurred_at up to a bounded lateness, events later
/// than that written to a separate late location with the reason. Offsets are committed only once the events up
/// to them are durable.
/// </summary>
/// <param name="Id">Source id (letters, digits, <c>_</c>, <c>-</c>).</param>
/// <param name="BootstrapServers">Kafka brokers.</param>
/// <param name="Topic">Topic to consume.</param>
/// <param name="GroupId">Consumer group (default <c>saiki-{Id}</c>).</param>
/// <param name="AllowedLateness">How far behind the newest occurred_at an event may arrive and still be put in order.</param>
/// <param name="DedupWindow">How many recent eids are remembered to drop duplicates.</param>
[GenerateSerializer, Immutable, Alias("saiki.kafka-source-spec")]
public sealed record KafkaSourceSpec(
    [property: Id(0)] string Id,
    [property: Id(1)] string BootstrapServers,
    [property: Id(2)] string Topic,
    [property: Id(3)] string? GroupId = null,
    [property: Id(4)] TimeSpan? AllowedLateness = null,
    [property: Id(5)] int DedupWindow = 100_000);

/// <summary>A Kafka source's state and counters.</summary>
[GenerateSerializer, Immutable, Alias("saiki.kafka-source-info")]
public sealed record KafkaSourceInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Topic,
    [property: Id(2)] string GroupId,
    [property: Id(3)] string State,
    [property: Id(4)] string? Error,
    [property: Id(5)] long Consumed,
    [property: Id(6)] long Written,
    [property: Id(7)] long Duplicates,
    [property: Id(8)] long Late,
    [property: Id(9)] long Invalid,
    [property: Id(10)] long Files,
    [property: Id(11)] DateTimeOffset? Watermark);

/// <summary>A Kafka topic source (key = id).</summary>
public interface IKafkaSourceGrain : IGrainWithStringKey
{
    /// <summary>Validates (brokers reachable, topic exists) and starts consuming; <see cref="EventTypeException"/> names each problem.</summary>
    Task<KafkaSourceInfo> RegisterAsync(KafkaSourceSpec spec);

    /// <summary>State and counters; null when not registered.</summary>
    Task<KafkaSourceInfo?> GetAsync();

    /// <summary>Stops consuming and forgets the source (lake files stay).</summary>
    Task<bool> RemoveAsync();
}

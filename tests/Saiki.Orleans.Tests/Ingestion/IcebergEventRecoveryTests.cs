using System.Text.Json;
using Confluent.Kafka;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>
/// A writer of an event table that died after handing a write to the table's committer and before saving its own
/// state: the table holds events the writer's state does not know. Here such a write is made the way the writer
/// makes it (same key, same committer) before the writer runs; the writer then takes it over instead of writing it
/// again or writing over its key: its events are repeats, and the table holds every event once.
/// </summary>
public sealed class IcebergEventRecoveryTests(KafkaIcebergPipelineCluster fixture) : IClassFixture<KafkaIcebergPipelineCluster>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static BusinessEvent Event(Guid eid, int n) =>
        new(eid.ToString(), T0.AddSeconds(n), JsonSerializer.Serialize(new { metadata = new { eid, occurred_at = T0.AddSeconds(n).ToString("O") }, n }));

    [Fact]
    public async Task AnEventTypeTakesOverAWriteItsStateMissed()
    {
        var type = "recover.posted-" + Guid.NewGuid().ToString("N")[..6];
        const string schema = """{"type":"object","properties":{"n":{"type":"integer"}}}""";
        var grain = fixture.Cluster.Client.GetGrain<IEventTypeGrain>(type);
        await grain.DefineAsync(new EventTypeDefinition(type, schema));
        // The silo holding the type dies; its next write (batch 1) reached the table, its state did not.
        await fixture.KillSiloHoldingAsync(grain);
        var table = EventTable.Posted(fixture.Cluster.Client, fixture.Lake, fixture.Layout, type);
        var columns = EventColumns.Posted(type, schema);
        var written = Enumerable.Range(0, 3).Select(n => Event(Guid.NewGuid(), n)).ToArray();
        await table.WriteAsync(columns, 1, written.Select(e => EventColumns.RowOf(columns, e)).ToArray(), DateTimeOffset.UtcNow);

        var fresh = Event(Guid.NewGuid(), 3);
        var outcomes = await grain.PublishAsync([written[1].Json, fresh.Json]);
        Assert.Equal([EventOutcome.Duplicate, EventOutcome.Accepted], outcomes.Select(o => o.Outcome));
        var info = (await grain.GetAsync())!;
        Assert.Equal((4L, 2L, 1L), (info.Accepted, info.Files, info.Duplicates));

        var rows = (await fixture.ReadEventTableAsync(EventTable.PostedSource, type, 4))
            .Select(r => JsonDocument.Parse(r.GetProperty("event").GetString()!).RootElement.GetProperty("n").GetInt32()).Order();
        Assert.Equal([0, 1, 2, 3], rows);
        // Batch 1 was not written over: batch 2 has a key of its own.
        Assert.NotNull(await fixture.Lake.GetAsync(table.DataKey(2)));
    }

    [Fact]
    public async Task AnEventTypesWindow_OutlivesItsActivation_FromTheWindowSavedNowAndThenAndTheFilesSince()
    {
        var type = "recover.window-" + Guid.NewGuid().ToString("N")[..6];
        const string schema = """{"type":"object","properties":{"n":{"type":"integer"}}}""";
        var grain = fixture.Cluster.Client.GetGrain<IEventTypeGrain>(type);
        await grain.DefineAsync(new EventTypeDefinition(type, schema));
        var batches = new[] { 7000, 7000, 100 }.Select((size, b) => Enumerable.Range(0, size).Select(n => Event(Guid.NewGuid(), b * 10_000 + n)).ToArray()).ToArray();
        foreach (var batch in batches)
        {
            Assert.All(await grain.PublishAsync(batch.Select(e => e.Json).ToArray()), r => Assert.Equal(EventOutcome.Accepted, r.Outcome));
        }
        // 14,000 events are more than an eighth of the window: it was saved after the second batch, not with every one.
        var table = EventTable.Posted(fixture.Cluster.Client, fixture.Lake, fixture.Layout, type);
        Assert.NotNull(await fixture.Lake.GetAsync(table.EidSnapshotKey(2)));
        Assert.Null(await fixture.Lake.GetAsync(table.EidSnapshotKey(1)));
        Assert.Null(await fixture.Lake.GetAsync(table.EidSnapshotKey(3)));

        // Every idle activation goes (the type's with its window in memory); the next call activates it afresh.
        await fixture.Cluster.Client.GetGrain<global::Orleans.Runtime.IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.False(fixture.Cluster.TryGetGrainContext(grain.GetGrainId(), out _), "the event type is still active");
        var fresh = Event(Guid.NewGuid(), 99_999);
        var outcomes = await grain.PublishAsync([batches[0][0].Json, batches[1][6999].Json, batches[2][50].Json, fresh.Json]);
        Assert.Equal([EventOutcome.Duplicate, EventOutcome.Duplicate, EventOutcome.Duplicate, EventOutcome.Accepted], outcomes.Select(o => o.Outcome));
    }

    [Fact]
    public async Task AKafkaSourceTakesOverAWriteItsStateMissed_TheEventsReadAgainAreRepeats()
    {
        var id = "krecover-" + Guid.NewGuid().ToString("N")[..6];
        var topic = $"recover.{id}";
        fixture.Kafka.CreateTopic(topic, 2);
        var events = Enumerable.Range(0, 40).Select(n => Event(Guid.NewGuid(), n)).ToArray();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers }).Build())
        {
            foreach (var e in events)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = e.Eid, Value = e.Json });
            }
        }
        // Write 1 (the first 15 events) reached the table; the source's state and its Kafka offsets did not move.
        var table = EventTable.Kafka(fixture.Cluster.Client, fixture.Lake, fixture.Layout, id);
        var columns = EventColumns.Kafka(id);
        await table.WriteAsync(columns, 1, events.Take(15).Select(e => EventColumns.RowOf(columns, e, 0, 0)).ToArray(), DateTimeOffset.UtcNow);

        var source = fixture.Cluster.Client.GetGrain<IKafkaSourceGrain>(id);
        await source.RegisterAsync(new KafkaSourceSpec(id, fixture.Kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(1)));
        var info = await Eventually.MatchAsync(async () => (await source.GetAsync())!, i => i.Written == 40 && i.Duplicates == 15, TimeSpan.FromSeconds(60));
        Assert.Equal(40L, info.Consumed);

        var eids = (await fixture.ReadEventTableAsync(EventTable.KafkaSource(id), EventTable.KafkaTable, 40))
            .Select(r => Guid.Parse(r.GetProperty("eid").GetString()!).ToString()).ToArray();
        Assert.Equal(events.Select(e => e.Eid).Order(), eids.Order());
        Assert.True(await source.RemoveAsync());
    }
}

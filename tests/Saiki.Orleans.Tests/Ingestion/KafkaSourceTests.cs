using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Saiki.Orleans.Client;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>A Kafka topic of business events (librdkafka's mock cluster) consumed into the lake by the shipped silo.</summary>
public sealed class KafkaSourceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly KafkaMockCluster _kafka = new();
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(null, "--Saiki:Pipeline:FlushInterval=00:00:00.500");

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _kafka.Dispose();
    }

    private static string Event(Guid eid, DateTimeOffset at, int n) =>
        JsonSerializer.Serialize(new { metadata = new { eid, occurred_at = at.ToString("O"), event_type = "order.placed" }, n });

    [Fact]
    public async Task ShuffledDuplicatedLateInput_LandsOncePerEvent_InEventTimeOrder_LateAsideWithReason_OffsetsCommittedAfterwards()
    {
        const string topic = "orders.events";
        _kafka.CreateTopic(topic, 3);
        var missing = await _silo.Http.PostAsJsonAsync("/api/sources/kafka", new { id = "k0", bootstrapServers = _kafka.BootstrapServers, topic = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("topic 'nope' does not exist", await missing.Content.ReadAsStringAsync());

        // 300 events over 5 minutes of event time, sent out of order within 20 s, 40 sent twice, 3 invalid.
        var events = Enumerable.Range(0, 300).Select(n => (Eid: Guid.NewGuid(), At: T0.AddSeconds(n), N: n)).ToArray();
        var random = new Random(3);
        var sent = events.OrderBy(e => e.N + random.Next(0, 20)).ToList();
        sent.InsertRange(150, sent.Take(150).Where(e => e.N % 3 == 0).Take(40).ToList()); // repeats of events already sent
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        async Task ProduceAsync(IEnumerable<(Guid Eid, DateTimeOffset At, int N)> batch)
        {
            foreach (var e in batch)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{e.N % 10}", Value = Event(e.Eid, e.At, e.N) });
            }
        }
        await ProduceAsync(sent.Take(100));
        var registered = await _silo.Http.PostAsJsonAsync("/api/sources/kafka",
            new KafkaSourceSpec("orders-k", _kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(30)), SaikiRestClient.Json);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        await ProduceAsync(sent.Skip(100));
        foreach (var invalid in new[] { "not json", "{\"metadata\":{}}", "[]" })
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "x", Value = invalid });
        }
        // Wait until everything is written (the input goes quiet, so all waiting events are released), then send
        // events far behind the watermark.
        await Eventually.MatchAsync(() => _silo.Http.GetFromJsonAsync<KafkaSourceInfo>("/api/sources/kafka/orders-k", SaikiRestClient.Json), i => i!.Written == 300, TimeSpan.FromSeconds(60));
        var late = Enumerable.Range(0, 5).Select(n => (Eid: Guid.NewGuid(), At: T0.AddSeconds(10 + n), N: 1000 + n)).ToArray();
        await ProduceAsync(late);
        var info = await Eventually.MatchAsync(() => _silo.Http.GetFromJsonAsync<KafkaSourceInfo>("/api/sources/kafka/orders-k", SaikiRestClient.Json),
            i => i!.Late == 5 && i.Invalid == 3, TimeSpan.FromSeconds(30));
        var files = new EventFiles(new LocalLakeStore(Path.Combine(_silo.Work, "lake")), new LakeLayout(""));
        Assert.Equal((300L, 40L, 5L, 3L, 348L), (info!.Written, info.Duplicates, info.Late, info.Invalid, info.Consumed));
        var written = (await files.ReadAllAsync(files.SourcePrefix("orders-k"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(events.Select(e => e.N), written.Select(w => w.GetProperty("n").GetInt32()));
        // Counted when read, written with the next flush.
        var aside = (await Eventually.MatchAsync(() => files.ReadAllAsync(files.LatePrefix("orders-k")), l => l.Count >= 8))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(8, aside.Count);
        Assert.Equal(5, aside.Count(a => a.GetProperty("reason").GetString()!.StartsWith("late: occurred_at 2026-11-27T09:00:1", StringComparison.Ordinal)));
        Assert.Equal(3, aside.Count(a => a.GetProperty("reason").GetString()!.StartsWith("invalid: ", StringComparison.Ordinal)));

        // Offsets: committed up to the end of every partition once everything is durable.
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "saiki-orders-k" }).Build();
        var partitions = Enumerable.Range(0, 3).Select(p => new TopicPartition(topic, p)).ToList();
        var ends = partitions.Select(p => probe.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(5)).High.Value).ToArray();
        Assert.Equal(348L, ends.Sum());
        var committed = await Eventually.MatchAsync(() => Task.FromResult(probe.Committed(partitions, TimeSpan.FromSeconds(5)).Select(c => c.Offset.Value).ToArray()),
            c => c.SequenceEqual(ends));
        Assert.Equal(ends, committed);

        Assert.Equal(HttpStatusCode.NoContent, (await _silo.Http.DeleteAsync("/api/sources/kafka/orders-k")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/api/sources/kafka/orders-k")).StatusCode);
    }
}

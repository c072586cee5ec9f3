using System.Text.Json;
using Confluent.Kafka;
using Orleans;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.EventBus;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>The silo consuming a Kafka topic is killed mid-stream: the lake still holds every event exactly once, in order.</summary>
public sealed class KafkaSourceCrashTests(KafkaPipelineCluster fixture) : IClassFixture<KafkaPipelineCluster>
{
    [Fact]
    public async Task KillingTheConsumingSilo_MidStream_LosesNothing_AndWritesNothingTwice()
    {
        var topic = "crash.events." + Guid.NewGuid().ToString("N")[..6];
        var id = "kcrash-" + Guid.NewGuid().ToString("N")[..6];
        fixture.Kafka.CreateTopic(topic, 3);
        var t0 = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, 1500).Select(n => (Eid: Guid.NewGuid(), N: n)).ToArray();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers }).Build();
        var produced = 0;
        var producing = Task.Run(async () =>
        {
            foreach (var (eid, n) in events)
            {
                var value = JsonSerializer.Serialize(new { metadata = new { eid, occurred_at = t0.AddMilliseconds(100 * n).ToString("O") }, n });
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{n % 7}", Value = value });
                Interlocked.Increment(ref produced);
                await Task.Delay(3);
            }
        });
        var source = fixture.Cluster.Client.GetGrain<IKafkaSourceGrain>(id);
        await source.RegisterAsync(new KafkaSourceSpec(id, fixture.Kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(2)));
        await Eventually.MatchAsync(async () => (await source.GetAsync())!.Written, w => w >= 200);

        var victim = await fixture.KillSiloHoldingAsync(source);
        await producing;

        var files = new EventFiles(fixture.Lake, fixture.Layout);
        var written = await Eventually.MatchAsync(() => files.ReadAllAsync(files.SourcePrefix(id)), l => l.Count >= 1500, TimeSpan.FromSeconds(90));
        Assert.Equal(events.Select(e => e.N), written.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32()));
        Assert.Empty(await files.ReadAllAsync(files.LatePrefix(id)));
        Assert.True(fixture.Cluster.TryGetGrainContext(source.GetGrainId(), out var moved));
        Assert.NotEqual(victim.SiloAddress, moved!.Address.SiloAddress);
        Assert.True(await source.RemoveAsync());
    }
}

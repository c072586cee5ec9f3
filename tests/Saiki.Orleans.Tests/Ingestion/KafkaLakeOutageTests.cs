using System.Text.Json;
using Confluent.Kafka;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.EventBus;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>A Kafka source whose silos reach s3rver through a proxy the test cuts.</summary>
public sealed class KafkaLakeOutageCluster : KafkaIcebergPipelineCluster
{
    protected override bool LakeBehindProxy => true;
}

/// <summary>
/// The lake is down while a Kafka topic holds far more than the source reads in one flush: the source fails its
/// write, retries exactly it, and reads no more meanwhile (its read buffer fills and Kafka keeps the rest, so memory
/// stays bounded); once the lake is back every event is in the event table exactly once, none made late by the pause.
/// </summary>
public sealed class KafkaLakeOutageTests(KafkaLakeOutageCluster fixture) : IClassFixture<KafkaLakeOutageCluster>
{
    [Fact]
    public async Task WhileTheLakeIsDown_TheSourceHoldsAtMostItsBound_AndAfterwardsEveryEventLandsOnce()
    {
        var id = "koutage-" + Guid.NewGuid().ToString("N")[..6];
        var topic = $"outage.{id}";
        fixture.Kafka.CreateTopic(topic, 3);
        const int count = 100_000;
        var t0 = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var eids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers, LingerMs = 5 }).Build())
        {
            for (var n = 0; n < count; n++)
            {
                producer.Produce(topic, new Message<string, string>
                {
                    Key = $"k{n % 11}",
                    Value = JsonSerializer.Serialize(new { metadata = new { eid = eids[n], occurred_at = t0.AddMilliseconds(n).ToString("O") }, n }),
                });
                if (n % 10_000 == 0)
                {
                    producer.Poll(TimeSpan.Zero);
                }
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        }

        await fixture.Proxy.DownAsync();
        var source = fixture.Cluster.Client.GetGrain<IKafkaSourceGrain>(id);
        await source.RegisterAsync(new KafkaSourceSpec(id, fixture.Kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(2)));
        // The source takes one flush's worth, fails to write it, and reads no further.
        var held = await Eventually.MatchAsync(async () => (await source.GetAsync())!, i => i.Consumed > 0 && i.Error is not null, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(4));
        var after = (await source.GetAsync())!;
        Assert.Equal(0, after.Written);
        Assert.Equal(held.Consumed, after.Consumed);
        Assert.True(after.Consumed < count, $"{after.Consumed} of {count} events read while the lake was down");

        fixture.Proxy.Up();
        var done = await Eventually.MatchAsync(async () => (await source.GetAsync())!, i => i.Written == count, TimeSpan.FromSeconds(120));
        Assert.Equal(((long)count, 0L, 0L), (done.Consumed, done.Late, done.Duplicates));
        var rows = (await fixture.ReadEventTableAsync(EventTable.KafkaSource(id), EventTable.KafkaTable, count, TimeSpan.FromSeconds(60)))
            .Select(r => Guid.Parse(r.GetProperty("eid").GetString()!)).ToArray();
        Assert.Equal(count, rows.Length);
        Assert.Equal(eids.Order(), rows.Order());
        Assert.True(await source.RemoveAsync());
    }
}

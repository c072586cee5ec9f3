using Confluent.Kafka;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Kafka;

/// <summary>The in-process Kafka used by the event-bus tests speaks the real protocol to the real client.</summary>
public sealed class KafkaMockClusterTests
{
    [Fact]
    public void IdempotentProducerAndGroupConsumer_RoundTripEveryMessage_AndCommittedOffsetsHold()
    {
        using var kafka = new KafkaMockCluster();
        kafka.CreateTopic("orders", 3);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build())
        {
            for (var i = 0; i < 300; i++)
            {
                producer.Produce("orders", new Message<string, string> { Key = $"k{i % 17}", Value = $"v{i}" });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        }

        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers, GroupId = "g", AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false, SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500,
        };
        var seen = new List<string>();
        using (var consumer = new ConsumerBuilder<string, string>(consumerConfig).Build())
        {
            consumer.Subscribe("orders");
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (seen.Count < 300 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
                {
                    seen.Add(result.Message.Value);
                }
            }
            consumer.Commit();
            consumer.Close();
        }
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"v{i}").Order(), seen.Order());

        // A new member of the same group resumes after the committed offsets: it sees only what came later.
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build())
        {
            for (var i = 300; i < 305; i++)
            {
                producer.Produce("orders", new Message<string, string> { Key = "late", Value = $"v{i}" });
            }
            producer.Flush(TimeSpan.FromSeconds(10));
        }
        using var again = new ConsumerBuilder<string, string>(consumerConfig).Build();
        again.Subscribe("orders");
        var later = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (later.Count < 5 && DateTime.UtcNow < until)
        {
            if (again.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                later.Add(result.Message.Value);
            }
        }
        Assert.Null(again.Consume(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(["v300", "v301", "v302", "v303", "v304"], later);
    }
}

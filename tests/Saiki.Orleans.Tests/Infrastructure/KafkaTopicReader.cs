using Confluent.Kafka;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>Reads a topic from the start with a fresh consumer group, as a downstream consumer would.</summary>
public static class KafkaTopicReader
{
    /// <summary>Reads until <paramref name="expected"/> messages arrived (or 30 s passed), then asserts no more follow (no duplicates).</summary>
    public static List<ConsumeResult<string, string>> Read(string bootstrapServers, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = "check-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var messages = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && messages.Count < expected)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
            {
                messages.Add(r);
            }
        }
        Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(500)));
        return messages;
    }
}

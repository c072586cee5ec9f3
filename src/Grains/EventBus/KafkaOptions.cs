using Microsoft.Extensions.Options;

namespace Saiki.Orleans.EventBus;

/// <summary>The Kafka event bus. Section <c>Saiki:Kafka</c>; off while <see cref="BootstrapServers"/> is empty.</summary>
public sealed class KafkaOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Kafka";
    /// <summary>Default topic name template.</summary>
    public const string DEFAULT_TOPIC_TEMPLATE = "saiki.{source}.{table}";

    /// <summary>Brokers (<c>host:port,…</c>); empty turns publishing off.</summary>
    public string BootstrapServers { get; set; } = "";
    /// <summary>Topic per table; <c>{source}</c> and <c>{table}</c> (schema.table) are replaced.</summary>
    public string TopicTemplate { get; set; } = DEFAULT_TOPIC_TEMPLATE;
    /// <summary>How long a flush waits for Kafka to acknowledge its messages before it fails and is retried.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Extra librdkafka producer settings (e.g. <c>security.protocol</c>, <c>sasl.*</c>); never logged.</summary>
    public Dictionary<string, string> Producer { get; set; } = new();

    /// <summary>
    /// Let a Kafka source name a consumer group outside Saiki's own (<c>saiki-…</c>). Off: a registration could
    /// otherwise take over another application's group, its partitions and its committed offsets.
    /// </summary>
    public bool AllowAnyConsumerGroup { get; set; }

    /// <summary>Prefix of the consumer groups Kafka sources may use.</summary>
    public const string GROUP_PREFIX = "saiki-";

    /// <summary>True when a broker list is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(BootstrapServers);

    /// <summary>The topic of a table.</summary>
    public string TopicOf(string sourceId, string table) => TopicTemplate.Replace("{source}", sourceId, StringComparison.Ordinal).Replace("{table}", table, StringComparison.Ordinal);
}

internal sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions o)
    {
        var errors = new List<string>();
        if (!o.TopicTemplate.Contains("{table}", StringComparison.Ordinal))
        {
            errors.Add($"{KafkaOptions.Section}:TopicTemplate '{o.TopicTemplate}' must contain {{table}}: the bus has one topic per table");
        }
        if (o.TopicOf("s", "t.t").Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            errors.Add($"{KafkaOptions.Section}:TopicTemplate '{o.TopicTemplate}' yields characters Kafka topic names cannot have (use letters, digits, '.', '_', '-')");
        }
        if (o.DeliveryTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{KafkaOptions.Section}:DeliveryTimeout must be positive");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.EventBus;

namespace Saiki.Orleans.Processes;

/// <summary>
/// Where breaches go besides the partition's own list: Kafka (topic <c>saiki.process.{name}.breaches</c>, key =
/// business key, value = the breach as JSON) when the event bus is on, and the process's webhook when it has one.
/// Both are retried a few times; a breach that cannot be delivered is logged, and stays queryable.
/// </summary>
public sealed class BreachSink(KafkaPublisher kafka, ILogger<BreachSink> logger) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Delivers the breaches of one watermark advance.</summary>
    public async Task DeliverAsync(ProcessDefinition process, IReadOnlyList<Breach> breaches)
    {
        foreach (var breach in breaches)
        {
            SaikiMetrics.Breaches.Add(1, new KeyValuePair<string, object?>("process", process.Name), new KeyValuePair<string, object?>("step", breach.Step));
            var body = JsonSerializer.SerializeToUtf8Bytes(breach, Json);
            await RetryAsync(process.Name, "kafka", () => kafka.PublishMessageAsync(KafkaPublisher.BreachTopic(process.Name), Encoding.UTF8.GetBytes(breach.Key), body));
            if (process.Webhook is { } hook)
            {
                await RetryAsync(process.Name, "webhook", async () =>
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new("application/json");
                    (await _http.PostAsync(hook, content)).EnsureSuccessStatusCode();
                    return true;
                });
            }
        }
    }

    private async Task RetryAsync(string process, string target, Func<Task<bool>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await send();
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (attempt == 3)
                {
                    ProcessLog.BreachNotDelivered(logger, process, target, e);
                    return;
                }
                await Task.Delay(200 * attempt);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

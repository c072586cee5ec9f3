using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Processes;

/// <summary>
/// Where breaches go besides the partition's own list: Kafka (topic <c>saiki.process.{name}.breaches</c>, key =
/// business key, value = the breach as JSON) when the event bus is on, and the process's webhook when it has one.
/// Delivery runs off the partitions' turns: a partition queues its breaches and goes on, so a slow or dead webhook
/// never stalls monitoring. The queue holds at most <see cref="QueueLimit"/> breaches per silo; beyond that a breach
/// is not announced (counted and logged) and stays queryable. Each delivery is retried a few times; one that cannot
/// be made is logged. Webhooks never reach link-local or metadata addresses unless allowed (<see cref="WebhookGuard"/>).
/// </summary>
public sealed class BreachSink : IDisposable
{
    /// <summary>Breaches waiting for delivery, at most, per silo.</summary>
    public const int QueueLimit = 10_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly KafkaPublisher _kafka;
    private readonly ILogger<BreachSink> _logger;
    private readonly HttpClient _http;
    private readonly Channel<(ProcessDefinition Process, Breach Breach)> _queue =
        Channel.CreateBounded<(ProcessDefinition, Breach)>(new BoundedChannelOptions(QueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _delivery;

    /// <summary>Starts the delivery loop.</summary>
    public BreachSink(KafkaPublisher kafka, IOptions<PipelineOptions> options, ILogger<BreachSink> logger)
    {
        (_kafka, _logger) = (kafka, logger);
        var allowLinkLocal = options.Value.AllowLinkLocalWebhooks;
        _http = new HttpClient(new SocketsHttpHandler { ConnectCallback = (context, ct) => WebhookGuard.ConnectAsync(context, allowLinkLocal, ct) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _delivery = Task.Run(DeliverAsync);
    }

    /// <summary>Breaches queued and not yet delivered.</summary>
    public int Waiting => _queue.Reader.Count;

    /// <summary>Queues the breaches of one watermark advance for delivery; returns at once.</summary>
    public void Enqueue(ProcessDefinition process, IReadOnlyList<Breach> breaches)
    {
        foreach (var breach in breaches)
        {
            SaikiMetrics.Breaches.Add(1, new KeyValuePair<string, object?>("process", process.Name), new KeyValuePair<string, object?>("step", breach.Step));
            if (!_queue.Writer.TryWrite((process, breach)))
            {
                SaikiMetrics.BreachesUnannounced.Add(1);
                ProcessLog.BreachQueueFull(_logger, process.Name, QueueLimit);
            }
        }
    }

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var (process, breach) in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(breach, Json);
                await RetryAsync(process.Name, "kafka", () => _kafka.PublishMessageAsync(KafkaPublisher.BreachTopic(process.Name), Encoding.UTF8.GetBytes(breach.Key), body));
                if (process.Webhook is { } hook)
                {
                    await RetryAsync(process.Name, "webhook", async () =>
                    {
                        using var content = new ByteArrayContent(body);
                        content.Headers.ContentType = new("application/json");
                        using var response = await _http.PostAsync(hook, content, _stop.Token);
                        response.EnsureSuccessStatusCode();
                        return true;
                    });
                }
            }
        }
        catch (OperationCanceledException)
        {
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
            catch (Exception e) when (e is not OutOfMemoryException && !_stop.IsCancellationRequested)
            {
                if (attempt == 3)
                {
                    SaikiMetrics.BreachesUnannounced.Add(1);
                    ProcessLog.BreachNotDelivered(_logger, process, target, e);
                    return;
                }
                await Task.Delay(200 * attempt, _stop.Token);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        _delivery.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
        _http.Dispose();
    }
}

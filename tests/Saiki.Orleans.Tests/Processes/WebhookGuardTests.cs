using System.Net;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Processes;

/// <summary>
/// Process webhooks stay off link-local and cloud metadata addresses: such URLs are refused at registration by name
/// or address, and delivery will not connect to such an address whatever the URL says, while ordinary hosts (a
/// loopback listener here) are reached.
/// </summary>
public sealed class WebhookGuardTests
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", true)]
    [InlineData("http://169.254.10.1:8080/hook", true)]
    [InlineData("http://[fe80::1]/hook", true)]
    [InlineData("http://[fd00:ec2::254]/hook", true)]
    [InlineData("http://[::ffff:169.254.169.254]/hook", true)]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/", true)]
    [InlineData("http://METADATA.google.internal./x", true)]
    [InlineData("http://127.0.0.1:9000/hook", false)]
    [InlineData("https://hooks.example.com/saiki", false)]
    [InlineData("http://10.0.0.5/hook", false)]
    public void LinkLocalAndMetadataWebhooks_AreRefusedAtRegistration(string url, bool refused)
    {
        var problem = WebhookGuard.Problem(url);
        Assert.Equal(refused, problem is not null);
        if (refused)
        {
            Assert.Contains("Saiki:Pipeline:AllowLinkLocalWebhooks", problem);
        }
    }

    [Fact]
    public async Task DeliveryConnectsToOrdinaryHosts_AndNeverToLinkLocalOnes()
    {
        using var listener = new HttpListener();
        var url = $"http://127.0.0.1:{TestSilo.FreePort()}/hook/";
        listener.Prefixes.Add(url);
        listener.Start();
        var answering = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.StatusCode = 204;
            context.Response.Close();
        });
        using var guarded = new HttpClient(new SocketsHttpHandler { ConnectCallback = (c, ct) => WebhookGuard.ConnectAsync(c, allowLinkLocal: false, ct) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        Assert.Equal(HttpStatusCode.NoContent, (await guarded.PostAsync(url, new StringContent("{}"))).StatusCode);
        await answering;
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.PostAsync("http://169.254.169.254/latest/meta-data/", new StringContent("{}")));
        Assert.Contains("link-local or metadata", refused.Message);
    }
}

/// <summary>
/// Breach delivery runs off the caller's turn: with a webhook that does not answer, queuing breaches returns at once,
/// the queue stops at its bound (what is beyond it is counted, not held), and the webhook still gets the first one.
/// </summary>
public sealed class BreachSinkTests
{
    [Fact]
    public async Task AWebhookThatHangs_StallsNobody_AndTheQueueStopsAtItsBound()
    {
        using var listener = new HttpListener();
        var url = $"http://127.0.0.1:{TestSilo.FreePort()}/slow/";
        listener.Prefixes.Add(url);
        listener.Start();
        var first = new TaskCompletionSource<string>();
        _ = Task.Run(async () =>
        {
            // Takes the first request's body, then never answers anything.
            var context = await listener.GetContextAsync();
            first.TrySetResult(await new StreamReader(context.Request.InputStream).ReadToEndAsync());
        });
        using var kafka = new Saiki.Orleans.EventBus.KafkaPublisher(Microsoft.Extensions.Options.Options.Create(new Saiki.Orleans.EventBus.KafkaOptions()));
        using var sink = new BreachSink(kafka, Microsoft.Extensions.Options.Options.Create(new Saiki.Orleans.Hosting.PipelineOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<BreachSink>.Instance);
        var process = new ProcessDefinition("slow-hook", [new ProcessStep("created", "shop", "public.orders", "id")], Webhook: url);
        var now = DateTimeOffset.UtcNow;
        var breaches = Enumerable.Range(0, BreachSink.QueueLimit + 500)
            .Select(i => new Breach("slow-hook", $"o-{i}", "paid", "created", now, now, now)).ToArray();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        sink.Enqueue(process, breaches);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"queuing took {watch.Elapsed}");
        Assert.Contains("\"key\":\"o-0\"", await first.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        // One is being delivered (its attempts hang); the rest wait, at most the bound.
        Assert.InRange(sink.Waiting, BreachSink.QueueLimit - 1, BreachSink.QueueLimit);
    }
}

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

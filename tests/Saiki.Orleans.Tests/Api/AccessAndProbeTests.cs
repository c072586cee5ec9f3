using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Api;

/// <summary>Tokens, probes, metrics and the operators' dashboard on the shipped silo.</summary>
public sealed class AccessAndProbeTests : IAsyncLifetime
{
    private const string Writer = "writer-token-0123456789abcdef";
    private const string Operator = "operator-token-0123456789abcdef";
    private TestSilo _silo = null!;

    public async Task InitializeAsync() =>
        _silo = await TestSilo.StartAsync(null, $"--Saiki:Api:WriteTokens:0={Writer}", $"--Saiki:Api:OperatorTokens:0={Operator}");

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    private async Task<HttpStatusCode> RegisterAsync(AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/sources/postgres")
        {
            // Refused by validation (unreachable database) once past authorization: 400 proves the token was taken.
            Content = JsonContent.Create(new { id = "auth", connectionString = "Host=127.0.0.1;Port=1;Timeout=2", tables = new[] { "public.t" } }),
        };
        request.Headers.Authorization = auth;
        return (await _silo.Http.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task Writes_NeedAWriterOrOperatorToken_ReadsAreOpen()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await RegisterAsync(null));
        Assert.Equal(HttpStatusCode.Unauthorized, await RegisterAsync(new("Bearer", "not-a-valid-token-at-all")));
        Assert.Equal(HttpStatusCode.BadRequest, await RegisterAsync(new("Bearer", Writer)));
        Assert.Equal(HttpStatusCode.BadRequest, await RegisterAsync(new("Bearer", Operator)));
        var unauthorized = await _silo.Http.DeleteAsync("/api/sources/x");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Contains("Bearer", unauthorized.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _silo.Http.GetAsync("/api/sources")).StatusCode);
    }

    [Fact]
    public async Task Dashboard_IsForOperatorsOnly_AndTakesTheTokenAsBasicPassword()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _silo.Http.GetAsync("/orleans/")).StatusCode);
        using var asWriter = new HttpRequestMessage(HttpMethod.Get, "/orleans/");
        asWriter.Headers.Authorization = new("Bearer", Writer);
        Assert.Equal(HttpStatusCode.Forbidden, (await _silo.Http.SendAsync(asWriter)).StatusCode);
        using var asOperator = new HttpRequestMessage(HttpMethod.Get, "/orleans/");
        asOperator.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + Operator)));
        var page = await _silo.Http.SendAsync(asOperator);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Probes_SayLiveAndReady_OnceTheSiloServes_AndMetricsAreScraped()
    {
        Assert.Equal("Healthy", await _silo.Http.GetStringAsync("/healthz/live"));
        Assert.Equal("Healthy", await _silo.Http.GetStringAsync("/healthz/ready"));
        // The pipeline's own meter and Orleans' runtime meters in Prometheus text format.
        var metrics = await Eventually.MatchAsync(() => _silo.Http.GetStringAsync("/metrics"), m => m.Contains("orleans_catalog_activations"));
        Assert.Contains("# TYPE", metrics);
        Assert.Contains("orleans_catalog_activations", metrics);

        await _silo.StopAsync();
        // Stopped: nobody answers, so an orchestrator sees the probe fail.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _silo.Http.GetStringAsync("/healthz/ready"));
    }

    [Fact]
    public async Task ReadsCanRequireAToken()
    {
        await using var strict = await TestSilo.StartAsync(null, $"--Saiki:Api:WriteTokens:0={Writer}", "--Saiki:Api:RequireTokenForReads=true");
        Assert.Equal(HttpStatusCode.Unauthorized, (await strict.Http.GetAsync("/api/sources")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sources");
        request.Headers.Authorization = new("Bearer", Writer);
        Assert.Equal(HttpStatusCode.OK, (await strict.Http.SendAsync(request)).StatusCode);
        // Probes stay open for the orchestrator.
        Assert.Equal(HttpStatusCode.OK, (await strict.Http.GetAsync("/healthz/ready")).StatusCode);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
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
        // Basic is for the dashboard only: the API refuses a valid token sent that way.
        Assert.Equal(HttpStatusCode.Unauthorized, await RegisterAsync(new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("w:" + Writer)))));
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

    [Fact]
    public async Task ReadTokens_ReadButNeverWrite_AndSeeNeitherWebhookUrlsNorSourceErrors()
    {
        const string Reader = "reader-token-0123456789abcdef";
        await using var silo = await TestSilo.StartAsync(null, $"--Saiki:Api:WriteTokens:0={Writer}", $"--Saiki:Api:ReadTokens:0={Reader}");
        async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = token is null ? null : new("Bearer", token);
            return await silo.Http.SendAsync(request);
        }

        // With read tokens configured, reads need a token; a read token reads (the Iceberg catalog too) and never writes.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/api/sources", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/iceberg/v1/config", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/sources", Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/iceberg/v1/config", Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/api/sources/postgres", Reader,
            new { id = "byreader", connectionString = "Host=127.0.0.1;Port=1", tables = new[] { "public.t" } })).StatusCode);

        // A source whose database became unreachable, and a process with a webhook.
        await using var db = await TestDatabase.CreateAsync("readtok");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        var server = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var proxy = new TcpOutageProxy(new Uri($"tcp://{server.Host}:{server.Port}"));
        var viaProxy = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { Port = proxy.Port, Timeout = 3 }.ConnectionString;
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/api/sources/postgres", Writer,
            new { id = s, connectionString = viaProxy, tables = new[] { $"{s}.t" }, snapshot = "Never" })).StatusCode);
        const string Hook = "https://hooks.example.com/secret-path-0123456789";
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/api/processes", Writer, new
        {
            name = "readtok",
            steps = new[] { new { name = "created", source = s, table = $"{s}.t", key = "id" } },
            webhook = Hook,
        })).StatusCode);
        await Eventually.MatchAsync(async () => await (await SendAsync(HttpMethod.Get, $"/api/sources/{s}", Writer)).Content.ReadFromJsonAsync<JsonElement>(),
            j => j.GetProperty("state").GetString() == "Running");
        await proxy.DownAsync();
        var seenByWriter = await Eventually.MatchAsync(async () => await (await SendAsync(HttpMethod.Get, $"/api/sources/{s}", Writer)).Content.ReadFromJsonAsync<JsonElement>(),
            j => j.GetProperty("error").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(60));
        Assert.NotEqual(Saiki.Orleans.Silo.Api.ApiAccess.Hidden, seenByWriter.GetProperty("error").GetString());

        var seenByReader = await (await SendAsync(HttpMethod.Get, $"/api/sources/{s}", Reader)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Saiki.Orleans.Silo.Api.ApiAccess.Hidden, seenByReader.GetProperty("error").GetString());
        var listed = await (await SendAsync(HttpMethod.Get, "/api/sources", Reader)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Saiki.Orleans.Silo.Api.ApiAccess.Hidden, listed.EnumerateArray().Single(x => x.GetProperty("id").GetString() == s).GetProperty("error").GetString());
        var process = await (await SendAsync(HttpMethod.Get, "/api/processes/readtok", Reader)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Saiki.Orleans.Silo.Api.ApiAccess.Hidden, process.GetProperty("webhook").GetString());
        var processes = await (await SendAsync(HttpMethod.Get, "/api/processes", Reader)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret-path", processes);
        Assert.Equal(Hook, (await (await SendAsync(HttpMethod.Get, "/api/processes/readtok", Writer)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("webhook").GetString());

        proxy.Up();
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/api/processes/readtok", Writer)).StatusCode);
        // Once the database answers again the source can drop its slot.
        var removed = await Eventually.MatchAsync(() => SendAsync(HttpMethod.Delete, $"/api/sources/{s}", Writer), r => r.StatusCode == HttpStatusCode.NoContent, TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Security;

/// <summary>
/// The security review's bad-input probes against the silo as shipped: each answers 400 with a problem body naming
/// the field (never a 500), creates nothing, and no answer carries a path of the silo's machine. Event types whose
/// schemas carry the same <c>$id</c> do not lock each other out.
/// </summary>
public sealed class BadInputProbeTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync();

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    private async Task<string> SendAsync(HttpMethod method, string path, string body, HttpStatusCode expected = HttpStatusCode.BadRequest)
    {
        var answer = await _silo.Http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == expected, $"{method} {path} {body}: {(int)answer.StatusCode} {text}");
        Assert.DoesNotContain(Path.GetFullPath(_silo.Work), text);
        Assert.DoesNotContain("/work/", text);
        Assert.DoesNotContain(" at Saiki.", text);
        return text;
    }

    private static string Detail(string problem) => JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString()!;

    [Theory]
    [InlineData("attacker.example", HttpStatusCode.BadRequest)]
    [InlineData("saiki.attacker.example:80", HttpStatusCode.BadRequest)]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("localhost", HttpStatusCode.OK)]
    public async Task OnLoopback_OnlyLoopbackHostNamesAreAnswered_AgainstDnsRebinding(string host, HttpStatusCode expected)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/sources");
        request.Headers.Host = host;
        Assert.Equal(expected, (await _silo.Http.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("file:///work/main/.saiki/lake/a/metadata/v3.metadata.json of table a|b is missing", "(path) of table a|b is missing")]
    [InlineData("Could not find file '/tmp/x/y.json'.", "Could not find file '(path)'.")]
    [InlineData(@"Access to C:\data\lake is denied", "Access to (path) is denied")]
    [InlineData("s3://bucket/a/b.parquet of http://127.0.0.1:9000/x/y is missing", "s3://bucket/a/b.parquet of http://127.0.0.1:9000/x/y is missing")]
    [InlineData("event type a.b: /total: must be >= 0", "event type a.b: /total: must be >= 0")]
    public void AnInternalErrorsText_LosesTheSilosFilePaths(string message, string shown) =>
        Assert.Equal(shown, Saiki.Orleans.Silo.Api.ApiJson.WithoutPaths(message));

    [Theory]
    [InlineData("{}", "schema")]
    [InlineData("{\"schema\":null}", "schema")]
    [InlineData("{\"compatibility\":\"None\"}", "schema")]
    [InlineData("{\"schema\":\"not an object\"}", "schema")]
    public async Task AnEventTypeWithoutASchema_Is400NamingIt(string body, string field)
    {
        var name = "probe.noschema-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Contains(field, Detail(await SendAsync(HttpMethod.Put, $"/event-types/{name}", body)));
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync($"/event-types/{name}")).StatusCode);
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData("..a")]
    public async Task EventTypeNamesWithEmptySegments_Are400(string name)
    {
        var problem = await SendAsync(HttpMethod.Put, $"/event-types/{name}", """{"schema":{"type":"object"}}""");
        Assert.Contains("event type", Detail(problem));
    }

    [Fact]
    public async Task ASchemaWithBooleanSubschemas_CanBeDefinedAndChanged()
    {
        var name = "probe.boolean-" + Guid.NewGuid().ToString("N")[..6];
        await SendAsync(HttpMethod.Put, $"/event-types/{name}", """{"schema":{"type":"object","properties":{"x":true,"y":{"type":"string"}}}}""", HttpStatusCode.OK);
        await SendAsync(HttpMethod.Put, $"/event-types/{name}", """{"schema":{"type":"object","properties":{"x":true,"y":{"type":"string"},"z":false}}}""", HttpStatusCode.OK);
        // Narrowing an open property to false is a change Compatible refuses, by name.
        Assert.Contains("x", Detail(await SendAsync(HttpMethod.Put, $"/event-types/{name}", """{"schema":{"type":"object","properties":{"x":false,"y":{"type":"string"},"z":false}}}""")));
    }

    [Fact]
    public async Task TwoEventTypesWithTheSameSchemaId_BothWork_AndAReDefinitionPublishes()
    {
        const string schema = """{"schema":{"$id":"https://example.com/order.json","type":"object","properties":{"n":{"type":"integer"}}}}""";
        var names = Enumerable.Range(0, 2).Select(i => $"probe.id{i}-" + Guid.NewGuid().ToString("N")[..6]).ToArray();
        foreach (var name in names)
        {
            await SendAsync(HttpMethod.Put, $"/event-types/{name}", schema, HttpStatusCode.OK);
            await SendAsync(HttpMethod.Put, $"/event-types/{name}", schema.Replace("\"integer\"}}", "\"integer\"},\"m\":{\"type\":\"string\"}}", StringComparison.Ordinal), HttpStatusCode.OK);
            var events = $$"""[{"metadata":{"eid":"{{Guid.NewGuid()}}","occurred_at":"2026-11-27T10:15:00Z"},"n":1,"m":"x"}]""";
            await SendAsync(HttpMethod.Post, $"/event-types/{name}/events", events, HttpStatusCode.OK);
        }
    }

    [Theory]
    [InlineData("""{"id":"k-noid-x","topic":"t"}""", "bootstrapServers")]
    [InlineData("""{"bootstrapServers":"127.0.0.1:1","topic":"t"}""", "id")]
    [InlineData("""{"id":null,"bootstrapServers":"127.0.0.1:1","topic":"t"}""", "id")]
    public async Task AKafkaRegistrationMissingAField_Is400NamingIt(string body, string field)
    {
        Assert.Contains(field, Detail(await SendAsync(HttpMethod.Post, "/api/sources/kafka", body)));
    }

    [Theory]
    [InlineData("""{"id":"pnull","connectionString":"Host=127.0.0.1","tables":["public.t"],"excludeTables":[null]}""", "excludeTables")]
    [InlineData("""{"id":"pnull","connectionString":"Host=127.0.0.1","tables":["public.t"],"columns":[null]}""", "columns")]
    [InlineData("""{"id":"pnull","connectionString":"Host=127.0.0.1","tables":[null]}""", "tables")]
    [InlineData("""{"id":"pnull","connectionString":"Host=127.0.0.1","tables":["public.t"]""", "JSON")]
    public async Task NullsInAPostgresRegistration_Are400NamingTheField(string body, string field)
    {
        Assert.Contains(field, Detail(await SendAsync(HttpMethod.Post, "/api/sources/postgres", body)));
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/api/sources/pnull")).StatusCode);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"tables":[null]}""")]
    [InlineData("""{"tables":null}""")]
    [InlineData("[null]", "$: the body must be a JSON object")]
    public async Task AddTablesWithoutTables_Is400NamingThem(string body, string expected = "tables")
    {
        var problem = await SendAsync(HttpMethod.Post, "/api/sources/nosuchsource/tables", body);
        Assert.True(Detail(problem).Contains(expected, StringComparison.Ordinal), problem);
    }
}

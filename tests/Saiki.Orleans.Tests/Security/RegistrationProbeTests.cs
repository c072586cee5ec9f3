using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Security;

/// <summary>
/// The security review's probes against the silo as shipped: registrations that must be refused with a 400 naming
/// the problem, and that leave nothing behind (no state, no lake key, no slot, no publication).
/// </summary>
public sealed class RegistrationProbeTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync();

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Theory]
    [InlineData("7", "$.columns[0].action: 7 is not one of Exclude, Hash (values are given by name)")]
    [InlineData("\"Encrypt\"", "$.columns[0].action: \"Encrypt\" is not one of Exclude, Hash")]
    [InlineData("\"1\"", "$.columns[0].action: \"1\" is not one of Exclude, Hash")]
    public async Task PrivacyRuleWithAnUnknownAction_IsRefusedNamingIt_AndCreatesNothing(string action, string expected)
    {
        await using var db = await TestDatabase.CreateAsync("failopen");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.customers (id int PRIMARY KEY, email text)");
        var body = $$"""
            {"id":"{{s}}","connectionString":"{{db.ConnectionString}}","tables":["{{s}}.customers"],
             "columns":[{"table":"{{s}}.customers","column":"email","action":{{action}}}]}
            """;
        var answer = await _silo.Http.PostAsync("/api/sources/postgres", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var problem = await answer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(expected, problem.GetProperty("detail").GetString());
        await AssertNothingCreatedAsync(db, s);
    }

    [Fact]
    public async Task UnknownSnapshotMode_IsRefusedNamingIt_AndCreatesNothing()
    {
        await using var db = await TestDatabase.CreateAsync("snapmode");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        var answer = await _silo.Http.PostAsJsonAsync("/api/sources/postgres", new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.t" }, snapshot = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("$.snapshot: 1 is not one of Initial, Never (values are given by name)", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        await AssertNothingCreatedAsync(db, s);
    }

    [Fact]
    public async Task UnknownCompatibilityMode_IsRefusedNamingIt()
    {
        var answer = await _silo.Http.PutAsJsonAsync("/event-types/probe.compat", new { compatibility = 5, schema = new { type = "object" } });
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.StartsWith("$.compatibility: 5 is not one of", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/event-types/probe.compat")).StatusCode);
    }

    [Theory]
    [InlineData("_events")]
    [InlineData("_late")]
    public async Task ReservedIds_AreRefusedWithTheReason_ForKafkaSourcesAndEventTypes(string id)
    {
        var kafka = await _silo.Http.PostAsJsonAsync("/api/sources/kafka", new { id, bootstrapServers = "127.0.0.1:9", topic = "t" });
        Assert.Equal(HttpStatusCode.BadRequest, kafka.StatusCode);
        Assert.Contains($"Kafka source id '{id}' starts with '_', which is reserved for Saiki's own lake folders", await kafka.Content.ReadAsStringAsync());

        var type = await _silo.Http.PutAsJsonAsync($"/event-types/{id}", new { schema = new { type = "object" } });
        Assert.Equal(HttpStatusCode.BadRequest, type.StatusCode);
        Assert.Contains($"event type name '{id}' starts with '_', which is reserved for Saiki's own lake folders", await type.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync($"/event-types/{id}")).StatusCode);
        Assert.Empty(LakeKeys());
    }

    [Fact]
    public async Task AKafkaSourceNamingAnotherApplicationsConsumerGroup_IsRefusedWithTheReason()
    {
        var answer = await _silo.Http.PostAsJsonAsync("/api/sources/kafka", new { id = "orders-k", bootstrapServers = "127.0.0.1:9", topic = "orders", groupId = "payments-service" });
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("groupId 'payments-service' does not start with 'saiki-'", await answer.Content.ReadAsStringAsync());
        Assert.Contains("Saiki:Kafka:AllowAnyConsumerGroup=true", await answer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/api/sources/kafka/orders-k")).StatusCode);
    }

    private async Task AssertNothingCreatedAsync(TestDatabase db, string id)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync($"/api/sources/{id}")).StatusCode);
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{id}'"));
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_publication WHERE pubname = 'saiki_{id}'"));
        Assert.DoesNotContain(LakeKeys(), k => k.Contains(id, StringComparison.Ordinal));
        var state = Path.Combine(_silo.Work, "state");
        var stateFiles = Directory.Exists(state) ? Directory.EnumerateFiles(state, "*", SearchOption.AllDirectories) : [];
        Assert.DoesNotContain(stateFiles, f => f.Contains(id, StringComparison.Ordinal) || File.ReadAllText(f).Contains(id, StringComparison.Ordinal));
    }

    private IEnumerable<string> LakeKeys()
    {
        var lake = Path.Combine(_silo.Work, "lake");
        return Directory.Exists(lake) ? Directory.EnumerateFiles(lake, "*", SearchOption.AllDirectories) : [];
    }
}

/// <summary>Anonymous reads of names that are not captured tables answer 404 and activate no partition grain.</summary>
public sealed class ReadProbeTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync();

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Theory]
    [InlineData("/api/lake/nosuch/public.t/partitions/0")]
    [InlineData("/api/lake/nosuch/public.t/partitions/-1")]
    [InlineData("/api/lake/a%7Cb/public.t/partitions/0")]
    [InlineData("/api/lake/a|b/c|d/partitions/3")]
    [InlineData("/api/lake/nosuch/public.t/iceberg")]
    public async Task UnknownPartitions_Answer404_AndActivateNothing(string path)
    {
        var answer = await _silo.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        var management = _silo.Services.GetRequiredService<global::Orleans.IGrainFactory>().GetGrain<global::Orleans.Runtime.IManagementGrain>(0);
        var statistics = await management.GetSimpleGrainStatistics();
        Assert.DoesNotContain(statistics, s => s.GrainType.Contains("Partition", StringComparison.Ordinal) || s.GrainType.Contains("LakeTable", StringComparison.Ordinal));
    }
}

/// <summary>State-changing requests a page on another site could make a browser send are refused.</summary>
public sealed class BrowserProbeTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync();

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Fact]
    public async Task ACrossSiteFormPost_IsRefusedWith415_AndChangesNothing()
    {
        await using var db = await TestDatabase.CreateAsync("csrf");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        Assert.Equal(HttpStatusCode.Created, (await _silo.Http.PostAsJsonAsync("/api/sources/postgres",
            new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.t" }, snapshot = "Never" })).StatusCode);
        await Eventually.MatchAsync(() => _silo.Http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}"), j => j.GetProperty("state").GetString() == "Running");

        // What a form on another site sends: a form content type, or a "simple" request with no body at all.
        var form = await _silo.Http.PostAsync($"/api/sources/{s}/pause", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Contains("X-Saiki-Request", await form.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _silo.Http.PostAsync($"/api/sources/{s}/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _silo.Http.PostAsync($"/api/sources/{s}/pause", new StringContent("x", System.Text.Encoding.UTF8, "text/plain"))).StatusCode);
        Assert.Equal("Running", (await _silo.Http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}")).GetProperty("state").GetString());

        // A client says what it is (the REST client and the CLI send the header), and the same pause goes through.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/sources/{s}/pause");
        request.Headers.Add("X-Saiki-Request", "test");
        Assert.Equal(HttpStatusCode.OK, (await _silo.Http.SendAsync(request)).StatusCode);
        Assert.Equal("Paused", (await _silo.Http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}")).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _silo.Http.DeleteAsync($"/api/sources/{s}")).StatusCode);
    }
}

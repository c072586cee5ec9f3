using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Api;

/// <summary>The silo process as shipped (embedded default: local lake, file state), driven over HTTP.</summary>
public sealed class RestApiTests : IAsyncLifetime
{
    private TestSilo _silo = null!;
    private HttpClient _http = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync(null,
            // Any slot retains more than one byte: every running source must raise the WAL alert.
            "--Saiki:Pipeline:MaxRetainedWalBytes=1", "--Saiki:Pipeline:HeartbeatInterval=00:00:00.300");
        _http = _silo.Http;
        _work = _silo.Work;
    }

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Fact]
    public async Task SourceLifecycle_OverRest_FromRefusalToFilesToRemoval()
    {
        await using var db = await TestDatabase.CreateAsync("rest");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.orders (id int PRIMARY KEY, status text)");

        var refused = await _http.PostAsJsonAsync("/api/sources/postgres", new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.orders", $"{s}.nope" } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"table {s}.nope does not exist", problem.GetProperty("errors").GetProperty("registration")[0].GetString());

        var noKey = await _http.PostAsJsonAsync("/api/sources/postgres", new
        {
            id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.orders" },
            columns = new[] { new { table = $"{s}.orders", column = "status", action = "Hash" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        Assert.Contains("no hash key is configured; set Saiki:Privacy:HashKey", await noKey.Content.ReadAsStringAsync());

        var created = await _http.PostAsJsonAsync("/api/sources/postgres", new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.orders" }, partitions = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/sources/{s}", created.Headers.Location?.ToString());

        await db.ExecuteAsync($"INSERT INTO {s}.orders SELECT g, 'new' FROM generate_series(1, 50) g; UPDATE {s}.orders SET status = 'paid' WHERE id <= 10");
        var source = await Eventually.MatchAsync(
            () => _http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}"),
            j => j.GetProperty("changesDurable").GetInt64() == 60);
        Assert.Equal(60, source.GetProperty("changesDurable").GetInt64());
        Assert.Equal("Running", source.GetProperty("state").GetString());
        Assert.DoesNotContain("connectionString", source.GetRawText(), StringComparison.OrdinalIgnoreCase);
        var alerted = await Eventually.MatchAsync(
            () => _http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}"),
            j => j.GetProperty("alerts").GetArrayLength() > 0);
        Assert.Contains("over the limit of 1 (Saiki:Pipeline:MaxRetainedWalBytes)", alerted.GetProperty("alerts")[0].GetString());
        Assert.True(alerted.GetProperty("retainedWalBytes").GetInt64() > 1);

        var completeness = await Eventually.MatchAsync(
            () => _http.GetFromJsonAsync<JsonElement>($"/api/lake/{s}/{s}.orders/completeness"),
            j => j.GetProperty("completeUpTo").ValueKind == JsonValueKind.String);
        Assert.Equal($"{s}.orders", completeness.GetProperty("table").GetString());
        Assert.True(completeness.GetProperty("completeUpTo").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/lake/{s}/{s}.nope/completeness")).StatusCode);
        var files = await _http.GetFromJsonAsync<JsonElement>($"/api/lake/{s}/{s}.orders/files");
        var second = await _http.GetFromJsonAsync<JsonElement>($"/api/lake/{s}/{s}.orders/files?offset=1&limit=1");
        Assert.Equal(files[1].GetProperty("key").GetString(), Assert.Single(second.EnumerateArray()).GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync($"/api/lake/{s}/{s}.orders/files?limit=100000")).StatusCode);
        Assert.Equal(60, files.EnumerateArray().Sum(f => f.GetProperty("rows").GetInt32()));
        foreach (var f in files.EnumerateArray())
        {
            Assert.True(File.Exists(Path.Combine(_work, "lake", f.GetProperty("key").GetString()!)));
        }
        var tables = await _http.GetFromJsonAsync<JsonElement>($"/api/lake/{s}/tables");
        var orders = Assert.Single(tables.EnumerateArray());
        Assert.Equal(60, orders.GetProperty("rows").GetInt64());
        Assert.Equal(files.EnumerateArray().Count(f => f.GetProperty("partition").GetInt32() >= 0), orders.GetProperty("files").GetInt64());
        Assert.Equal(2, orders.GetProperty("partitions").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/lake/nope/tables")).StatusCode);
        var partition = await _http.GetFromJsonAsync<JsonElement>($"/api/lake/{s}/{s}.orders/partitions/0");
        Assert.Equal(24, partition.GetProperty("durable").GetString()!.Length);

        var list = await _http.GetFromJsonAsync<JsonElement>("/api/sources");
        Assert.Contains(list.EnumerateArray(), j => j.GetProperty("id").GetString() == s);
        Assert.Equal(0, (await _http.GetFromJsonAsync<JsonElement>("/api/sources?offset=1&limit=5")).GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/api/sources?limit=0")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/sources/{s}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/sources/{s}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync($"/api/sources/{s}")).StatusCode);
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
    }

    [Fact]
    public async Task ARemovalThatCannotReachTheDatabase_AnswersWhatFailed_AndKeepsTheSource()
    {
        await using var db = await TestDatabase.CreateAsync("restout");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY)");
        var server = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var proxy = new TcpOutageProxy(new Uri($"tcp://{server.Host}:{server.Port}"));
        var viaProxy = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { Port = proxy.Port, Timeout = 3 }.ConnectionString;
        var created = await _http.PostAsJsonAsync("/api/sources/postgres", new { id = s, connectionString = viaProxy, tables = new[] { $"{s}.t" }, snapshot = "Never" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await Eventually.MatchAsync(() => _http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}"), j => j.GetProperty("state").GetString() == "Running");

        await proxy.DownAsync();
        var failed = await _http.DeleteAsync($"/api/sources/{s}");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var problem = await failed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith($"source '{s}' was not removed: dropping its replication slot saiki_{s} and publication failed (", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/api/sources/{s}")).StatusCode);

        // Reachable again, the source captures from where it was and can be removed.
        proxy.Up();
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT generate_series(1, 10)");
        var resumed = await Eventually.MatchAsync(() => _http.GetFromJsonAsync<JsonElement>($"/api/sources/{s}"), j => j.GetProperty("changesDurable").GetInt64() == 10);
        Assert.Equal(10, resumed.GetProperty("changesDurable").GetInt64());
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/sources/{s}")).StatusCode);
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheSourceEndpoints_AndTheDashboardIsServed()
    {
        var doc = await _http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/sources/postgres", out var register));
        Assert.Contains("wal_level=logical", register.GetProperty("post").GetProperty("description").GetString());
        Assert.True(paths.TryGetProperty("/api/sources/{id}", out _));
        Assert.True(paths.TryGetProperty("/api/lake/{source}/{table}/files", out _));
        var page = await _http.GetStringAsync("/");
        Assert.Contains("/api/sources", page);
    }
}

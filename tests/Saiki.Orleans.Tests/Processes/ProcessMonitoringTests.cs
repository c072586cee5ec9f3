using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Saiki.Orleans.Client;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Processes;

/// <summary>
/// Order-to-cash on the shipped silo with real PostgreSQL: orders, payments and shipments, some orders never paid
/// and some never shipped. Breaches must appear for exactly those orders at their deadlines, statistics must match
/// what SQL computes from the source tables' commit times, and breaches must reach Kafka and the webhook.
/// </summary>
public sealed class ProcessMonitoringTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(6);
    private readonly KafkaMockCluster _kafka = new();
    private readonly HttpListener _webhook = new();
    private readonly ConcurrentBag<JsonElement> _hooked = [];
    private TestSilo _silo = null!;
    private string _hookUrl = null!;

    public async Task InitializeAsync()
    {
        _hookUrl = $"http://127.0.0.1:{TestSilo.FreePort()}/breaches/";
        _webhook.Prefixes.Add(_hookUrl);
        _webhook.Start();
        _ = Task.Run(async () =>
        {
            while (_webhook.IsListening)
            {
                var context = await _webhook.GetContextAsync();
                _hooked.Add(await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.InputStream));
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        });
        // The default lake, Iceberg, so the dashboard shows the tables' snapshots.
        _silo = await TestSilo.StartAsync(null, $"--Saiki:Kafka:BootstrapServers={_kafka.BootstrapServers}", "--Saiki:Lake:Format=Iceberg",
            "--Saiki:Pipeline:HeartbeatInterval=00:00:00.500");
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _webhook.Close();
        _kafka.Dispose();
    }

    [Fact]
    public async Task UnpaidAndUnshippedOrders_AreBreachedExactlyAtTheirDeadlines_AndStatisticsMatchSql()
    {
        await using var db = await TestDatabase.CreateAsync("bpm");
        var s = db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.orders (id int PRIMARY KEY, status text NOT NULL);
            CREATE TABLE {s}.payments (id serial PRIMARY KEY, order_id int NOT NULL, amount numeric NOT NULL);
            CREATE TABLE {s}.shipments (id serial PRIMARY KEY, order_id int NOT NULL);
            """);
        Assert.Equal(HttpStatusCode.Created, (await _silo.Http.PostAsJsonAsync("/api/sources/postgres",
            new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.orders", $"{s}.payments", $"{s}.shipments" }, partitions = 2 })).StatusCode);
        var name = "o2c-" + s;
        _kafka.CreateTopic($"saiki.process.{name}.breaches", 1);
        var definition = new ProcessDefinition(name, [
            new ProcessStep("created", s, $"{s}.orders", "id", Where: [new FieldPredicate("status", "eq", "new")]),
            new ProcessStep("paid", s, $"{s}.payments", "order_id", Deadline: new StepDeadline("created", Deadline)),
            new ProcessStep("shipped", s, $"{s}.shipments", "order_id", Deadline: new StepDeadline("paid", Deadline)),
        ], Partitions: 3, Webhook: _hookUrl);
        var registered = await _silo.Http.PostAsJsonAsync("/api/processes", definition, SaikiRestClient.Json);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        // Every silo routes by the registry's definitions, refreshed each second.
        await Task.Delay(TimeSpan.FromSeconds(2));
        // The dashboard, in headless Chromium, from before the first breach: it must show one live.
        var screenshot = Path.Combine(TestEnvironment.RepositoryRoot, "TestResults", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        var dashboard = TestEnvironment.RunAsync("node", "tests/dashboard/check.mjs", _silo.Url.ToString(), screenshot, name, "50", "90000", "iceberg");

        // 60 orders; 1-45 paid, 46-60 never; 1-40 shipped, 41-45 never. Orders with another status start nothing.
        await db.ExecuteAsync($"INSERT INTO {s}.orders SELECT g, 'new' FROM generate_series(1, 60) g; INSERT INTO {s}.orders SELECT g, 'test' FROM generate_series(61, 65) g");
        for (var i = 1; i <= 45; i++)
        {
            await db.ExecuteAsync($"INSERT INTO {s}.payments (order_id, amount) VALUES ({i}, {i}.50)");
            await Task.Delay(20);
        }
        for (var i = 1; i <= 40; i++)
        {
            await db.ExecuteAsync($"INSERT INTO {s}.shipments (order_id) VALUES ({i})");
        }
        var shippedBy = DateTimeOffset.UtcNow;

        var page = await Eventually.MatchAsync(() => _silo.Http.GetFromJsonAsync<BreachPage>($"/api/processes/{name}/breaches?limit=100", SaikiRestClient.Json),
            p => p!.Total >= 20, TimeSpan.FromSeconds(60));
        // Let the watermark run well past the last deadline: no further breach may appear.
        var info = await Eventually.MatchAsync(() => _silo.Http.GetFromJsonAsync<ProcessInfo>($"/api/processes/{name}", SaikiRestClient.Json),
            i => i!.Stats.Watermark > shippedBy + Deadline + TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        page = await _silo.Http.GetFromJsonAsync<BreachPage>($"/api/processes/{name}/breaches?limit=100", SaikiRestClient.Json);
        Assert.Equal(20, page!.Total);
        Assert.Equal(Enumerable.Range(46, 15).Select(k => k.ToString()), page.Items.Where(b => b.Step == "paid").Select(b => b.Key).Order(StringComparer.Ordinal).OrderBy(int.Parse));
        Assert.Equal(Enumerable.Range(41, 5).Select(k => k.ToString()), page.Items.Where(b => b.Step == "shipped").Select(b => b.Key).OrderBy(int.Parse));

        // At the deadline: due is the reference step's commit time plus the deadline, detected once the watermark passed it.
        var commits = await CommitTimesAsync(db, s);
        foreach (var b in page.Items)
        {
            var reference = b.Step == "paid" ? commits.Orders[int.Parse(b.Key)] : commits.Payments[int.Parse(b.Key)];
            Assert.Equal(reference, b.AfterTime);
            Assert.Equal(reference + Deadline, b.Due);
            Assert.InRange(b.DetectedAt - b.Due, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        }

        // Statistics against SQL on the source tables.
        var stats = info!.Stats;
        Assert.Equal(await db.ScalarAsync($"SELECT count(*) FROM {s}.orders WHERE status = 'new'"), stats.Started);
        Assert.Equal(40L, stats.Completed);
        Assert.Equal(20L, stats.InFlight);
        Assert.Equal(20L, stats.Breached);
        Assert.Equal([60L, 45L, 40L], stats.Steps.Select(x => x.Reached));
        Assert.Equal([0L, 15L, 5L], stats.Steps.Select(x => x.Breached));
        foreach (var (step, sql) in new[]
        {
            ("paid", $"SELECT pg_xact_commit_timestamp(p.xmin) - pg_xact_commit_timestamp(o.xmin) FROM {s}.payments p JOIN {s}.orders o ON o.id = p.order_id"),
            ("shipped", $"SELECT pg_xact_commit_timestamp(x.xmin) - pg_xact_commit_timestamp(p.xmin) FROM {s}.shipments x JOIN {s}.payments p ON p.order_id = x.order_id"),
        })
        {
            var cycle = stats.Steps.Single(x => x.Step == step).CycleTime!;
            foreach (var (q, actual) in new[] { (0.50, cycle.P50Ms), (0.95, cycle.P95Ms), (0.99, cycle.P99Ms) })
            {
                var expected = (double)(await db.ScalarAsync($"SELECT extract(epoch FROM percentile_disc({q}) WITHIN GROUP (ORDER BY d)) * 1000 FROM ({sql}) t(d)") switch
                {
                    decimal m => m,
                    var other => Convert.ToDecimal(other),
                });
                Assert.InRange(actual, expected * 0.99 - 1, expected * 1.01 + 1);
            }
        }
        var series = await _silo.Http.GetFromJsonAsync<ProcessSeries>($"/api/processes/{name}/series?minutes=60", SaikiRestClient.Json);
        Assert.Equal(60L, series!.Minutes.Sum(m => m.Started));
        Assert.Equal(20L, series.Minutes.Sum(m => m.Breached));

        // Instances by business key.
        var unpaid = await _silo.Http.GetFromJsonAsync<InstanceView>($"/api/processes/{name}/instances/50", SaikiRestClient.Json);
        Assert.Equal(InstanceStatus.Breached, unpaid!.Status);
        Assert.Equal(["created"], unpaid.Steps.Select(x => x.Step));
        Assert.Equal("paid", Assert.Single(unpaid.Breaches).Step);
        var done = await _silo.Http.GetFromJsonAsync<InstanceView>($"/api/processes/{name}/instances/7", SaikiRestClient.Json);
        Assert.Equal(InstanceStatus.Completed, done!.Status);
        Assert.Equal(["created", "paid", "shipped"], done.Steps.Select(x => x.Step));
        Assert.Equal(commits.Orders[7], done.StartedAt);
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync($"/api/processes/{name}/instances/63")).StatusCode);

        var (browserExit, browserOutput) = await dashboard;
        Assert.True(browserExit == 0, browserOutput);
        var check = JsonDocument.Parse(browserOutput.Trim().Split('\n')[^1]).RootElement;
        Assert.True(check.GetProperty("ok").GetBoolean());
        Assert.True(check.GetProperty("breachSeenAfterMs").GetInt64() > 0);
        Assert.True(check.GetProperty("icebergSnapshots").GetInt32() >= 1, "the dashboard showed no Iceberg snapshot of the captured tables");
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // Breaches are events too: on Kafka (key = business key) and at the webhook, each once.
        var onKafka = KafkaTopicReader.Read(_kafka.BootstrapServers, $"saiki.process.{name}.breaches", 20).Select(r => r.Message.Key).ToList();
        Assert.Equal(page.Items.Select(b => b.Key).Order(), onKafka.Order());
        await Eventually.MatchAsync(() => Task.FromResult(_hooked.Count), n => n >= 20);
        Assert.Equal(page.Items.Select(b => b.Key).Order(), _hooked.Select(j => j.GetProperty("key").GetString()!).Order());

        Assert.Equal(HttpStatusCode.NoContent, (await _silo.Http.DeleteAsync($"/api/processes/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync($"/api/processes/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _silo.Http.DeleteAsync($"/api/sources/{s}")).StatusCode);
    }

    private static async Task<(Dictionary<int, DateTimeOffset> Orders, Dictionary<int, DateTimeOffset> Payments)> CommitTimesAsync(TestDatabase db, string s)
    {
        async Task<Dictionary<int, DateTimeOffset>> Read(string table, string key)
        {
            var result = new Dictionary<int, DateTimeOffset>();
            var text = (string)(await db.ScalarAsync($"SELECT string_agg({key} || '=' || (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::bigint, ',') FROM {s}.{table}"))!;
            foreach (var pair in text.Split(','))
            {
                var parts = pair.Split('=');
                result[int.Parse(parts[0])] = DateTimeOffset.UnixEpoch.AddTicks(long.Parse(parts[1]) * 10);
            }
            return result;
        }
        return (await Read("orders", "id"), await Read("payments", "order_id"));
    }
}

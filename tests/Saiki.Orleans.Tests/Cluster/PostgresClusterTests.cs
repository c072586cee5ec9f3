using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Cluster;

/// <summary>
/// Shipped silos forming one cluster through PostgreSQL: membership (AdoNet clustering), grain state and the
/// supervision reminder all live in a database of the test's own, with the schema the silos apply themselves.
/// </summary>
public sealed class PostgresClusterTests : IAsyncLifetime
{
    private readonly string _clusterId = "pgc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _lake = Path.Combine(Path.GetTempPath(), "saiki-pgc-lake-" + Guid.NewGuid().ToString("N"));
    private ClusterDatabase _state = null!;
    private readonly List<TestSilo> _silos = [];

    public async Task InitializeAsync() => _state = await ClusterDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
        await _state.DisposeAsync();
        if (Directory.Exists(_lake))
        {
            Directory.Delete(_lake, recursive: true);
        }
    }

    private async Task<(TestSilo Silo, int Port)> StartSiloAsync(string name)
    {
        var port = TestSilo.FreePort();
        var silo = await TestSilo.StartAsync(null,
            "--Saiki:Cluster:Kind=AdoNet", $"--Saiki:Cluster:ConnectionString={_state.ConnectionString}",
            $"--Saiki:Silo:ClusterId={_clusterId}", "--Saiki:Silo:AdvertisedAddress=127.0.0.1", $"--Saiki:Silo:Name={name}",
            $"--Saiki:Silo:SiloPort={port}", $"--Saiki:Lake:Directory={_lake}",
            "--Saiki:Pipeline:SupervisionInterval=00:00:01", "--Saiki:Pipeline:ResyncAfter=00:00:06",
            "--Saiki:Silo:ShutdownTimeoutSeconds=20");
        _silos.Add(silo);
        return (silo, port);
    }

    private Task<long> ActiveSilosAsync() =>
        _state.ScalarAsync($"SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = '{_clusterId}' AND status = 3").ContinueWith(t => (long)t.Result!);

    [Fact]
    public async Task TwoSilosShareMembershipStateAndReminders_InPostgres_AndCaptureSurvivesAGracefulHandOver()
    {
        var (a, portA) = await StartSiloAsync("silo-a");
        var (b, portB) = await StartSiloAsync("silo-b");
        Assert.Equal(2L, await Eventually.MatchAsync(ActiveSilosAsync, n => n == 2));
        Assert.Equal("Healthy", await a.Http.GetStringAsync("/healthz/ready"));
        Assert.Equal("Healthy", await b.Http.GetStringAsync("/healthz/ready"));
        // The schema came from the silos themselves, with the defunct-silo cleanup query among the provider's queries.
        Assert.Equal(1L, await _state.ScalarAsync("SELECT count(*) FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntriesKey'"));

        await using var db = await TestDatabase.CreateAsync("pgc");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.orders (id int PRIMARY KEY, status text NOT NULL)");
        var created = await a.Http.PostAsJsonAsync("/api/sources/postgres", new { id = s, connectionString = db.ConnectionString, tables = new[] { $"{s}.orders" }, partitions = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await db.ExecuteAsync($"INSERT INTO {s}.orders SELECT g, 'new' FROM generate_series(1, 200) g");
        await Eventually.MatchAsync(async () => (await b.Http.GetFromJsonAsync<SourceInfo>($"/api/sources/{s}", Saiki.Orleans.Client.SaikiRestClient.Json))!.ChangesDurable, n => n == 200);

        // Grain state and the supervision reminder are rows in PostgreSQL.
        Assert.True((long)(await _state.ScalarAsync("SELECT count(*) FROM orleansstorage WHERE payloadbinary IS NOT NULL"))! >= 3);
        Assert.Equal(1L, await _state.ScalarAsync($"SELECT count(*) FROM orleansreminderstable WHERE remindername = '{SourceRegistryGrain.SUPERVISION_REMINDER}'"));

        // Stop the silo that captures, gracefully; the other takes over from the confirmed position.
        var grains = a.Services.GetRequiredService<IGrainFactory>();
        var holder = (await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            .Single(g => g.GrainType.StartsWith(typeof(SourceGrain).FullName + ",", StringComparison.Ordinal)).SiloAddress;
        var (stopping, surviving) = holder.Endpoint.Port == portA ? (a, b) : (b, a);
        Assert.Contains(holder.Endpoint.Port, new[] { portA, portB });
        await db.ExecuteAsync($"UPDATE {s}.orders SET status = 'paid' WHERE id <= 100");
        await stopping.StopAsync();
        await db.ExecuteAsync($"INSERT INTO {s}.orders SELECT g, 'late' FROM generate_series(201, 300) g; DELETE FROM {s}.orders WHERE id % 10 = 0");

        var info = await Eventually.MatchAsync(
            async () => (await surviving.Http.GetFromJsonAsync<SourceInfo>($"/api/sources/{s}", Saiki.Orleans.Client.SaikiRestClient.Json))!,
            i => i.ChangesDurable >= 200 + 100 + 100 + 30 && i.State == SourceState.Running,
            TimeSpan.FromSeconds(90));
        Assert.Equal(SourceState.Running, info.State);
        Assert.Equal(1L, await Eventually.MatchAsync(ActiveSilosAsync, n => n == 1));

        var expected = await db.ReadTableAsync($"{s}.orders", ["id"]);
        var replay = await Eventually.MatchAsync(
            () => LakeReplay.LoadAsync(new LocalLakeStore(_lake), new LakeLayout(""), s, $"{s}.orders", ["id"], 2),
            r => LakeReplay.Compare(expected, r.Rows).Count == 0);
        Assert.Empty(replay.Problems);
        Assert.Empty(LakeReplay.Compare(expected, replay.Rows));
        Assert.Equal(200 + 100 + 100 + 30, replay.Changes);

        // A new silo joins the same cluster from the database alone.
        var (c, _) = await StartSiloAsync("silo-c");
        Assert.Equal(2L, await Eventually.MatchAsync(ActiveSilosAsync, n => n == 2));
        Assert.Contains(await c.Http.GetFromJsonAsync<SourceInfo[]>("/api/sources", Saiki.Orleans.Client.SaikiRestClient.Json) ?? [], x => x.Id == s);
        Assert.Equal(HttpStatusCode.NoContent, (await c.Http.DeleteAsync($"/api/sources/{s}")).StatusCode);
    }
}

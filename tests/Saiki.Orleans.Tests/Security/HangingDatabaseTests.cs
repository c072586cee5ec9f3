using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Security;

/// <summary>
/// A registration naming a database that accepts TCP connections and never answers: it is refused within the
/// validation bound, naming the database (and not its password), creates nothing, and holds up nothing else:
/// listing sources and reading another's status answer at once meanwhile.
/// </summary>
public sealed class HangingDatabaseTests : IAsyncLifetime
{
    private TestSilo _silo = null!;
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _held = [];

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync();
        _silent.Start();
    }

    public async Task DisposeAsync()
    {
        _silent.Stop();
        _held.ForEach(c => c.Dispose());
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task ADatabaseThatNeverAnswers_IsRefusedWithinTheBound_AndBlocksNothingElse()
    {
        var port = ((IPEndPoint)_silent.LocalEndpoint).Port;
        // Accept every connection and say nothing.
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    _held.Add(await _silent.AcceptTcpClientAsync());
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        var watch = Stopwatch.StartNew();
        var registering = _silo.Http.PostAsJsonAsync("/api/sources/postgres", new
        {
            id = "hanging", connectionString = $"Host=127.0.0.1;Port={port};Username=u;Password=secret-pw;Database=orders", tables = new[] { "public.t" },
        });
        await Task.Delay(1500);
        Assert.False(registering.IsCompleted, "the silent database answered");
        // Meanwhile the registry serves everything else at once.
        var list = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await _silo.Http.GetAsync("/api/sources")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/api/sources/other")).StatusCode);
        Assert.True(list.Elapsed < TimeSpan.FromSeconds(3), $"listing took {list.Elapsed} while a registration hung");

        var answer = await registering;
        var problem = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"refused after {watch.Elapsed}");
        var detail = JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains($"127.0.0.1:{port}/orders", detail);
        Assert.DoesNotContain("secret-pw", problem);
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.GetAsync("/api/sources/hanging")).StatusCode);
    }
}

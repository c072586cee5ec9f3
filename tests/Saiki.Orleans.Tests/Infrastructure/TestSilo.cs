using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Saiki.Orleans.Silo.Hosting;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// The silo process as shipped (<see cref="SaikiHost"/>), started in-process on free loopback ports with a work
/// directory of its own, driven over HTTP.
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private TestSilo(WebApplication app, string work)
    {
        _app = app;
        Work = work;
        // A silo listening on every address (0.0.0.0) is reached on loopback.
        Url = new Uri(app.Urls.First().Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal));
        Http = new HttpClient { BaseAddress = Url };
    }

    /// <summary>Base address of the REST API.</summary>
    public Uri Url { get; }
    /// <summary>A client without credentials.</summary>
    public HttpClient Http { get; }
    /// <summary>Work directory (local lake under <c>lake/</c>, file state under <c>state/</c>), deleted on dispose.</summary>
    public string Work { get; }
    /// <summary>The application's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a silo; <paramref name="settings"/> (<c>--Key=value</c>) come after the defaults and win.</summary>
    public static async Task<TestSilo> StartAsync(string? work = null, params string[] settings)
    {
        work ??= Path.Combine(Path.GetTempPath(), "saiki-silo-" + Guid.NewGuid().ToString("N"));
        var app = SaikiHost.Build([
            "--urls=http://127.0.0.1:0",
            $"--Saiki:Silo:SiloPort={FreePort()}", $"--Saiki:Silo:GatewayPort={FreePort()}", "--Saiki:Silo:ClusterId=test-" + Guid.NewGuid().ToString("N")[..8],
            $"--Saiki:Lake:Directory={work}/lake", $"--Saiki:State:Directory={work}/state", "--Saiki:Pipeline:FlushInterval=00:00:00.200",
            // The lake's text form, which these tests read back; a test of the Iceberg default passes --Saiki:Lake:Format=Iceberg.
            "--Saiki:Lake:Format=JsonLines",
            .. settings,
        ]);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A silo that refused to start may have started parts of itself: stop them, they hold ports and threads.
            await app.DisposeAsync();
            throw;
        }
        return new TestSilo(app, work);
    }

    /// <summary>Stops the silo gracefully (as on a pod's SIGTERM).</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    /// <summary>A TCP port free on loopback right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

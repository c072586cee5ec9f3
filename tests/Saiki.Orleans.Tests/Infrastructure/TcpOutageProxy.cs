using System.Net;
using System.Net.Sockets;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a real server that a test can take down (refusing and cutting connections)
/// and bring back: a network outage between Saiki and that server, without stopping the server itself.
/// </summary>
public sealed class TcpOutageProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _connections = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public TcpOutageProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Up();
    }

    public int Port { get; }

    /// <summary>Accepts connections and forwards them.</summary>
    public void Up()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        var listener = _listener;
        _accepting = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = ForwardAsync(client);
            }
        });
    }

    /// <summary>Refuses new connections and cuts the open ones.</summary>
    public async Task DownAsync()
    {
        _listener?.Stop();
        await _accepting;
        lock (_connections)
        {
            foreach (var c in _connections)
            {
                c.Dispose();
            }
            _connections.Clear();
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var server = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(server);
        }
        try
        {
            await server.ConnectAsync(_target);
            var a = PumpAsync(client.GetStream(), server.GetStream());
            var b = PumpAsync(server.GetStream(), client.GetStream());
            await Task.WhenAny(a, b);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Delay added before forwarding each chunk either way: a slow server or network (zero: none).</summary>
    public TimeSpan Latency { get; set; }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[81920];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            if (Latency > TimeSpan.Zero)
            {
                await Task.Delay(Latency);
            }
            await to.WriteAsync(buffer.AsMemory(0, read));
        }
    }

    public async ValueTask DisposeAsync() => await DownAsync();
}

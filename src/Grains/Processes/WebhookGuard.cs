using System.Net;
using System.Net.Sockets;

namespace Saiki.Orleans.Processes;

/// <summary>
/// Keeps process webhooks off the addresses that answer for the machine itself rather than for a service: link-local
/// networks (169.254.0.0/16, fe80::/10), where cloud metadata services hand out credentials (169.254.169.254,
/// fd00:ec2::254, metadata.google.internal). Registration refuses such a URL by name or literal address; delivery
/// refuses to connect to such an address whatever a name resolves to (so DNS cannot point a webhook there later).
/// <see cref="PipelineOptions.AllowLinkLocalWebhooks"/> lifts both.
/// </summary>
public static class WebhookGuard
{
    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");
    private static readonly string[] MetadataNames = ["metadata.google.internal", "metadata", "instance-data"];

    /// <summary>True for an address a webhook may not reach.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork ? bytes[0] == 169 && bytes[1] == 254
            : address.IsIPv6LinkLocal || address.Equals(AwsMetadataV6);
    }

    /// <summary>Why a webhook URL is refused at registration, or null.</summary>
    public static string? Problem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return null; // the URL's shape is checked with the rest of the definition
        }
        var host = uri.IdnHost.Trim('[', ']').TrimEnd('.');
        return (IPAddress.TryParse(host, out var ip) && IsForbidden(ip)) || MetadataNames.Contains(host, StringComparer.OrdinalIgnoreCase)
            ? $"webhook '{url}' points at a link-local or cloud metadata address; set Saiki:Pipeline:AllowLinkLocalWebhooks=true to allow it"
            : null;
    }

    /// <summary>Connects to the first allowed address of the request's host; throws when it has none.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowLinkLocal, CancellationToken ct)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var allowed = addresses.Where(a => allowLinkLocal || !IsForbidden(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"webhook host {endpoint.Host} resolves only to link-local or metadata addresses");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

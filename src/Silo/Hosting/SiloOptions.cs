using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>How this silo joins its cluster in the embedded configuration. Section <c>Saiki:Silo</c>.</summary>
public sealed class SiloOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Silo";
    /// <summary>Default silo-to-silo port.</summary>
    public const int DEFAULT_SILO_PORT = 11111;
    /// <summary>Default client gateway port.</summary>
    public const int DEFAULT_GATEWAY_PORT = 30000;

    /// <summary>Silo-to-silo port on localhost.</summary>
    public int SiloPort { get; set; } = DEFAULT_SILO_PORT;
    /// <summary>Gateway port for cluster clients.</summary>
    public int GatewayPort { get; set; } = DEFAULT_GATEWAY_PORT;
    /// <summary>Cluster id (silos with the same id form one cluster).</summary>
    public string ClusterId { get; set; } = "saiki-dev";
    /// <summary>Service id (stable across deployments; keys persisted state).</summary>
    public string ServiceId { get; set; } = "saiki";
    /// <summary>Address other silos reach this one at (on Kubernetes the pod IP). Unset: localhost in the
    /// embedded setup, the first non-loopback address in a cluster.</summary>
    public string? AdvertisedAddress { get; set; }
    /// <summary>Silo name in membership and logs (on Kubernetes the pod name). Unset: machine name and port.</summary>
    public string? Name { get; set; }
    /// <summary>Seconds the host waits on shutdown for grains to hand over (capture checkpoints, last flushes).
    /// A pod's termination grace period must be longer.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = DEFAULT_SHUTDOWN_TIMEOUT_SECONDS;

    /// <summary>Default shutdown timeout.</summary>
    public const int DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 30;

    /// <summary>Mutual TLS between silos and for gateway clients; off unless a certificate is given.</summary>
    public SiloTlsOptions Tls { get; set; } = new();
}

/// <summary>
/// Mutual TLS for the Orleans ports (section <c>Saiki:Silo:Tls</c>), in the files a Kubernetes TLS secret holds (as
/// cert-manager writes it): every silo and every gateway client must present a certificate issued by the CA.
/// </summary>
public sealed class SiloTlsOptions
{
    /// <summary>PEM certificate of this silo (<c>tls.crt</c>); set to turn TLS on.</summary>
    public string? CertificatePath { get; set; }
    /// <summary>PEM private key of the certificate (<c>tls.key</c>).</summary>
    public string? KeyPath { get; set; }
    /// <summary>PEM certificate of the CA that issues the cluster's certificates (<c>ca.crt</c>); peers must chain to it.</summary>
    public string? CaPath { get; set; }

    /// <summary>True when TLS is configured.</summary>
    public bool Enabled => !string.IsNullOrEmpty(CertificatePath);
}

internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions o)
    {
        var errors = new List<string>();
        if (o.SiloPort is < 1 or > 65535)
        {
            errors.Add($"{SiloOptions.Section}:SiloPort is {o.SiloPort}; it must be a TCP port (1-65535)");
        }
        if (o.GatewayPort is < 1 or > 65535)
        {
            errors.Add($"{SiloOptions.Section}:GatewayPort is {o.GatewayPort}; it must be a TCP port (1-65535)");
        }
        if (o.SiloPort == o.GatewayPort)
        {
            errors.Add($"{SiloOptions.Section}:SiloPort and GatewayPort are both {o.SiloPort}; they must differ");
        }
        if (string.IsNullOrWhiteSpace(o.ClusterId))
        {
            errors.Add($"{SiloOptions.Section}:ClusterId is required");
        }
        if (string.IsNullOrWhiteSpace(o.ServiceId))
        {
            errors.Add($"{SiloOptions.Section}:ServiceId is required");
        }
        if (o.AdvertisedAddress is { Length: > 0 } address && !System.Net.IPAddress.TryParse(address, out _))
        {
            errors.Add($"{SiloOptions.Section}:AdvertisedAddress '{address}' is not an IP address");
        }
        if (o.Tls.Enabled || !string.IsNullOrEmpty(o.Tls.KeyPath) || !string.IsNullOrEmpty(o.Tls.CaPath))
        {
            foreach (var (setting, path) in new[] { ("CertificatePath", o.Tls.CertificatePath), ("KeyPath", o.Tls.KeyPath), ("CaPath", o.Tls.CaPath) })
            {
                if (string.IsNullOrEmpty(path))
                {
                    errors.Add($"{SiloOptions.Section}:Tls:{setting} is required with mutual TLS (set CertificatePath, KeyPath and CaPath together)");
                }
                else if (!File.Exists(path))
                {
                    errors.Add($"{SiloOptions.Section}:Tls:{setting} names {path}, which does not exist");
                }
            }
        }
        if (o.ShutdownTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add($"{SiloOptions.Section}:ShutdownTimeoutSeconds is {o.ShutdownTimeoutSeconds}; it must be between 1 and 3600");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

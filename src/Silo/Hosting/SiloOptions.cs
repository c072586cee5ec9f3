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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

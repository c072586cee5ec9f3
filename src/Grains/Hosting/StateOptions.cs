using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Hosting;

/// <summary>Where grain state lives in the embedded configuration. Section <c>Saiki:State</c>.</summary>
public sealed class StateOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:State";
    /// <summary>Default state directory, relative to the working directory.</summary>
    public const string DEFAULT_DIRECTORY = ".saiki/state";

    /// <summary>Directory of the file-based grain storage.</summary>
    public string Directory { get; set; } = DEFAULT_DIRECTORY;
}

internal sealed class StateOptionsValidator : IValidateOptions<StateOptions>
{
    public ValidateOptionsResult Validate(string? name, StateOptions o) =>
        string.IsNullOrWhiteSpace(o.Directory)
            ? ValidateOptionsResult.Fail($"{StateOptions.Section}:Directory is required")
            : ValidateOptionsResult.Success;
}

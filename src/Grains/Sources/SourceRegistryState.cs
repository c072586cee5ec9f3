using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>Durable state of the source registry.</summary>
[GenerateSerializer, Alias("saiki.registry-state")]
public sealed class SourceRegistryState
{
    /// <summary>Ids of registered sources.</summary>
    [Id(0)] public SortedSet<string> SourceIds { get; set; } = new(StringComparer.Ordinal);
}

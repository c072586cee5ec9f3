using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>Durable state of the source registry.</summary>
[GenerateSerializer, Alias("saiki.registry-state")]
public sealed class SourceRegistryState
{
    /// <summary>Ids of registered sources.</summary>
    [Id(0)] public SortedSet<string> SourceIds { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Kind of each source that is not PostgreSQL (the kind sources had before there were others).</summary>
    [Id(1)] public Dictionary<string, SourceKind> Kinds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The kind of a registered source.</summary>
    public SourceKind KindOf(string id) => Kinds.GetValueOrDefault(id, SourceKind.Postgres);
}

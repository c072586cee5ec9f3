using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>One registered source database (key: source id). Owns the replication slot and the checkpoint.</summary>
[Alias("saiki.source")]
public interface ISourceGrain : IChangeSourceGrain
{
    /// <summary>Validates the spec against the database, creates publication and slot, starts capture.</summary>
    [Alias("register")]
    Task<SourceInfo> RegisterAsync(PostgresSourceSpec spec);

    /// <summary>
    /// Adds tables to a running source: they join the publication, and an incremental snapshot (DBLog-style
    /// watermarks in the stream) reads their existing rows while the stream keeps flowing.
    /// </summary>
    [Alias("add-tables")]
    Task<SourceInfo> AddTablesAsync(IReadOnlyList<string> tables);
}

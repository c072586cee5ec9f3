using Orleans;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Sources;

/// <summary>One registered source database (key: source id). Owns the replication slot and the checkpoint.</summary>
[Alias("saiki.source")]
public interface ISourceGrain : IGrainWithStringKey
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

    /// <summary>Current status, or null when no source has this id.</summary>
    [Alias("get")]
    Task<SourceInfo?> GetAsync();

    /// <summary>Stops capture and drops the slot and publication.</summary>
    [Alias("remove")]
    Task RemoveAsync();

    /// <summary>Starts capture if the source is registered and not running.</summary>
    [Alias("ensure-running")]
    Task EnsureRunningAsync();

    /// <summary>A partition reports that every change it received up to a position is durable.</summary>
    [Alias("acknowledge")]
    Task AcknowledgeAsync(PartitionAck ack);

    /// <summary>A partition saw a gap in the batches of the given epoch; capture restarts from the checkpoint.</summary>
    [Alias("resynchronize")]
    Task ResynchronizeAsync(long epoch, string reason);
}

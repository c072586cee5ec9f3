using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>The list of registered sources (a single activation, key 0).</summary>
[Alias("saiki.source-registry")]
public interface ISourceRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Validates and registers a PostgreSQL source. Throws <see cref="SourceValidationException"/> when refused.
    /// Registrations interleave with everything else (one database that never answers holds up only its own), and
    /// end within the validation bound: created, or refused with nothing created.</summary>
    [Alias("register-postgres"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<SourceInfo> RegisterPostgresAsync(PostgresSourceSpec spec);

    /// <summary>Validates and registers a DynamoDB table source. Throws <see cref="SourceValidationException"/> when refused.</summary>
    [Alias("register-dynamodb"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<SourceInfo> RegisterDynamoAsync(DynamoSourceSpec spec);

    /// <summary>Status of one source of any kind, or null when none has this id.</summary>
    [Alias("get"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<SourceInfo?> GetAsync(string id);

    /// <summary>All registered sources with their current status.</summary>
    [Alias("list"), global::Orleans.Concurrency.AlwaysInterleave]
    Task<IReadOnlyList<SourceInfo>> ListAsync();

    /// <summary>Stops capture, releases what the source holds in its database, forgets the source. False when it was not registered.</summary>
    [Alias("remove")]
    Task<bool> RemoveAsync(string id);

    /// <summary>Pauses a source of any kind (see <see cref="IChangeSourceGrain.PauseAsync"/>); null when none has this id.</summary>
    [Alias("pause")]
    Task<SourceInfo?> PauseAsync(string id);

    /// <summary>Resumes a paused source of any kind (see <see cref="IChangeSourceGrain.ResumeAsync"/>); null when none has this id.</summary>
    [Alias("resume")]
    Task<SourceInfo?> ResumeAsync(string id);

    /// <summary>Makes sure every registered source is capturing (called periodically by each silo).</summary>
    [Alias("ensure-running")]
    Task EnsureRunningAsync();
}

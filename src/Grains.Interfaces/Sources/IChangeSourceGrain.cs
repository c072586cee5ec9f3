using Orleans;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Sources;

/// <summary>
/// What every capturing source grain offers, whatever its database: status, removal, supervision, and the
/// acknowledgements of the partitions it feeds. <see cref="SourceKind"/> tells which grain interface owns an id.
/// </summary>
[Alias("saiki.change-source")]
public interface IChangeSourceGrain : IGrainWithStringKey
{
    /// <summary>Current status, or null when no source has this id.</summary>
    [Alias("get")]
    Task<SourceInfo?> GetAsync();

    /// <summary>Stops capture and releases what the source holds in the database (slot, publication); lake files stay.</summary>
    [Alias("remove")]
    Task RemoveAsync();

    /// <summary>
    /// Stops capture and keeps the source's position (slot, stream checkpoints): nothing more is read until
    /// <see cref="ResumeAsync"/>, also across silo restarts. Changes already read still become durable. Pausing a
    /// paused source does nothing; a failed source cannot be paused (<see cref="SourceValidationException"/>).
    /// </summary>
    [Alias("pause")]
    Task<SourceInfo> PauseAsync();

    /// <summary>Resumes a paused source from its confirmed position; <see cref="SourceValidationException"/> when it is not paused.</summary>
    [Alias("resume")]
    Task<SourceInfo> ResumeAsync();

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

/// <summary>The kinds of capturing sources; batches carry it so partitions can answer the right grain.</summary>
public enum SourceKind : byte
{
    /// <summary>A PostgreSQL database captured through logical replication (<see cref="ISourceGrain"/>).</summary>
    Postgres = 0,
    /// <summary>A DynamoDB table captured through DynamoDB Streams (<see cref="IDynamoSourceGrain"/>).</summary>
    DynamoDb = 1,
}

/// <summary>Finds the grain of a source of a given kind.</summary>
public static class SourceGrains
{
    /// <summary>The grain that owns source <paramref name="id"/> of kind <paramref name="kind"/>.</summary>
    public static IChangeSourceGrain Get(IGrainFactory grains, SourceKind kind, string id) => kind switch
    {
        SourceKind.DynamoDb => grains.GetGrain<IDynamoSourceGrain>(id),
        _ => grains.GetGrain<ISourceGrain>(id),
    };

    /// <summary>The name used in <see cref="SourceInfo.Kind"/>.</summary>
    public static string NameOf(SourceKind kind) => kind switch
    {
        SourceKind.DynamoDb => "dynamodb",
        _ => "postgres",
    };
}

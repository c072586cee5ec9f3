using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Processes;
using Orleans;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Client;

/// <summary>
/// What a service team uses to register and watch its sources, over an Orleans cluster client.
/// The REST API under <c>/api/sources</c> offers the same operations.
/// </summary>
public sealed class SaikiClient(IClusterClient cluster)
{
    private ISourceRegistryGrain Registry => cluster.GetGrain<ISourceRegistryGrain>(0);

    /// <summary>
    /// Validates the database (reachable, <c>wal_level=logical</c>, replication permission, tables exist with a
    /// primary key or REPLICA IDENTITY FULL), creates publication and slot, and starts capture.
    /// </summary>
    /// <exception cref="SourceValidationException">The registration was refused; nothing was created.</exception>
    public Task<SourceInfo> RegisterPostgresSourceAsync(PostgresSourceSpec spec) => Registry.RegisterPostgresAsync(spec);

    /// <summary>
    /// Validates a DynamoDB table (exists, stream enabled with NEW_AND_OLD_IMAGES or NEW_IMAGE) and starts capture:
    /// a parallel Scan snapshot (if asked), then the stream, shard by shard.
    /// </summary>
    /// <exception cref="SourceValidationException">The registration was refused; nothing was created.</exception>
    public Task<SourceInfo> RegisterDynamoSourceAsync(DynamoSourceSpec spec) => Registry.RegisterDynamoAsync(spec);

    /// <summary>Starts a failed DynamoDB source over (truncate in the lake, new snapshot, stream from then on).</summary>
    public Task<SourceInfo> ResnapshotDynamoSourceAsync(string id) => cluster.GetGrain<IDynamoSourceGrain>(id).ResnapshotAsync();

    /// <summary>
    /// Adds tables to a registered source; their existing rows are snapshotted incrementally while the stream keeps
    /// flowing, so the result equals a fresh full snapshot.
    /// </summary>
    /// <exception cref="SourceValidationException">A table is missing, already captured, or lacks a key.</exception>
    public Task<SourceInfo> AddTablesAsync(string id, IReadOnlyList<string> tables) => cluster.GetGrain<ISourceGrain>(id).AddTablesAsync(tables);

    /// <summary>
    /// Pauses capture: nothing more is read until <see cref="ResumeSourceAsync"/>, and the source database keeps the
    /// changes meanwhile (a PostgreSQL slot retains WAL). Null when the source is not registered.
    /// </summary>
    /// <exception cref="SourceValidationException">The source has failed.</exception>
    public Task<SourceInfo?> PauseSourceAsync(string id) => Registry.PauseAsync(id);

    /// <summary>Resumes a paused source from its confirmed position. Null when the source is not registered.</summary>
    /// <exception cref="SourceValidationException">The source is not paused.</exception>
    public Task<SourceInfo?> ResumeSourceAsync(string id) => Registry.ResumeAsync(id);

    /// <summary>Status of one source, or null when it is not registered.</summary>
    public Task<SourceInfo?> GetSourceAsync(string id) => Registry.GetAsync(id);

    /// <summary>All registered sources.</summary>
    public Task<IReadOnlyList<SourceInfo>> ListSourcesAsync() => Registry.ListAsync();

    /// <summary>Stops capture and drops slot and publication; lake files stay. False when the source was not registered.</summary>
    public Task<bool> RemoveSourceAsync(string id) => Registry.RemoveAsync(id);

    private IProcessRegistryGrain Processes => cluster.GetGrain<IProcessRegistryGrain>(0);

    /// <summary>Validates and registers a business process; <see cref="ProcessValidationException"/> names each problem.</summary>
    public Task<ProcessInfo> RegisterProcessAsync(ProcessDefinition definition) => Processes.RegisterAsync(definition);

    /// <summary>All processes with statistics.</summary>
    public Task<IReadOnlyList<ProcessInfo>> ListProcessesAsync() => Processes.ListAsync();

    /// <summary>One process with statistics; null when not registered.</summary>
    public Task<ProcessInfo?> GetProcessAsync(string name) => cluster.GetGrain<IProcessGrain>(name).GetAsync();

    /// <summary>A process's breaches, newest first.</summary>
    public Task<BreachPage> GetBreachesAsync(string name, int offset = 0, int limit = 50) => cluster.GetGrain<IProcessGrain>(name).GetBreachesAsync(offset, limit);

    /// <summary>One instance of a process by business key; null when unknown.</summary>
    public Task<InstanceView?> GetInstanceAsync(string name, string key) => cluster.GetGrain<IProcessGrain>(name).GetInstanceAsync(key);

    /// <summary>Per-minute counts of a process.</summary>
    public Task<ProcessSeries> GetSeriesAsync(string name, int minutes = 60) => cluster.GetGrain<IProcessGrain>(name).GetSeriesAsync(minutes);

    /// <summary>Removes a process and its state; false when not registered.</summary>
    public Task<bool> RemoveProcessAsync(string name) => Processes.RemoveAsync(name);

    /// <summary>Creates an event type, or gives it a new schema within its compatibility mode.</summary>
    public Task<EventTypeInfo> DefineEventTypeAsync(EventTypeDefinition definition) => cluster.GetGrain<IEventTypeGrain>(definition.Name).DefineAsync(definition);

    /// <summary>An event type; null when not defined.</summary>
    public Task<EventTypeInfo?> GetEventTypeAsync(string name) => cluster.GetGrain<IEventTypeGrain>(name).GetAsync();

    /// <summary>Publishes events (JSON texts) of a type: validated all or nothing, durable when this returns.</summary>
    public Task<IReadOnlyList<EventResult>> PublishEventsAsync(string eventType, IReadOnlyList<string> events) =>
        cluster.GetGrain<IEventTypeGrain>(eventType).PublishAsync(events);

    /// <summary>Registers a Kafka topic of business events as a source.</summary>
    public Task<KafkaSourceInfo> RegisterKafkaSourceAsync(KafkaSourceSpec spec) => string.IsNullOrWhiteSpace(spec.Id)
        ? throw new EventTypeException(["id is required: the Kafka source's id (letters, digits, '-' and '_')"])
        : cluster.GetGrain<IKafkaSourceGrain>(spec.Id).RegisterAsync(spec);

    /// <summary>A Kafka source; null when not registered.</summary>
    public Task<KafkaSourceInfo?> GetKafkaSourceAsync(string id) => cluster.GetGrain<IKafkaSourceGrain>(id).GetAsync();

    /// <summary>Stops and forgets a Kafka source; false when not registered.</summary>
    public Task<bool> RemoveKafkaSourceAsync(string id) => cluster.GetGrain<IKafkaSourceGrain>(id).RemoveAsync();
}

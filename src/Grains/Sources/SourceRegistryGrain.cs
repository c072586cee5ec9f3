using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Sources;

/// <summary>
/// Keeps the list of registered sources and fans queries and supervision out to them. Supervision runs on a
/// reminder, kept in the cluster's reminder table (PostgreSQL in a cluster): every period the registry makes sure
/// each source is capturing, so a source whose silo died is reactivated on a live one, and a whole cluster that
/// restarts resumes capture without anyone calling in.
/// </summary>
public sealed class SourceRegistryGrain(
    [PersistentState("registry", SaikiNames.Storage)] IPersistentState<SourceRegistryState> state,
    IOptions<PipelineOptions> options) : Grain, ISourceRegistryGrain, IRemindable
{
    /// <summary>Name of the supervision reminder.</summary>
    public const string SUPERVISION_REMINDER = "supervise";

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.SourceIds.Count > 0)
        {
            await ArmSupervisionAsync();
        }
    }

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == SUPERVISION_REMINDER ? EnsureRunningAsync() : Task.CompletedTask;

    private Task ArmSupervisionAsync()
    {
        var period = options.Value.SupervisionInterval;
        return this.RegisterOrUpdateReminder(SUPERVISION_REMINDER, period, period);
    }

    /// <inheritdoc />
    public Task<SourceInfo> RegisterPostgresAsync(PostgresSourceSpec spec)
    {
        var shaped = PostgresSourceAdmin.ValidateShape(spec);
        return RegisterAsync(shaped.Id, SourceKind.Postgres, () => GrainFactory.GetGrain<ISourceGrain>(shaped.Id).RegisterAsync(shaped));
    }

    /// <inheritdoc />
    public Task<SourceInfo> RegisterDynamoAsync(DynamoSourceSpec spec)
    {
        var shaped = DynamoSourceAdmin.ValidateShape(spec);
        return RegisterAsync(shaped.Id, SourceKind.DynamoDb, () => GrainFactory.GetGrain<IDynamoSourceGrain>(shaped.Id).RegisterAsync(shaped));
    }

    /// <summary>
    /// Registers a source whose grain validates and sets it up. Interleaves (see the interface): an id being
    /// registered is reserved until its grain answers, and state writes go one at a time.
    /// </summary>
    private async Task<SourceInfo> RegisterAsync(string id, SourceKind kind, Func<Task<SourceInfo>> register)
    {
        if (state.State.SourceIds.Contains(id))
        {
            throw new SourceValidationException($"source '{id}' is already registered; remove it first to register it again");
        }
        if (!_registering.Add(id))
        {
            throw new SourceValidationException($"source '{id}' is being registered by another request");
        }
        try
        {
            var info = await register();
            await WriteAsync(() =>
            {
                state.State.SourceIds.Add(id);
                if (kind != SourceKind.Postgres)
                {
                    state.State.Kinds[id] = kind;
                }
            });
            await ArmSupervisionAsync();
            return info;
        }
        finally
        {
            _registering.Remove(id);
        }
    }

    private readonly HashSet<string> _registering = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writes = new(1, 1);

    /// <summary>Changes the state and saves it, one change at a time (registrations interleave).</summary>
    private async Task WriteAsync(Action change)
    {
        await _writes.WaitAsync();
        try
        {
            change();
            await state.WriteStateAsync();
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <inheritdoc />
    public Task<SourceInfo?> GetAsync(string id) =>
        state.State.SourceIds.Contains(id) ? Source(id).GetAsync() : Task.FromResult<SourceInfo?>(null);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SourceInfo>> ListAsync()
    {
        var infos = await Task.WhenAll(state.State.SourceIds.Select(id => Source(id).GetAsync()));
        return infos.OfType<SourceInfo>().ToArray();
    }

    private IChangeSourceGrain Source(string id) => SourceGrains.Get(GrainFactory, state.State.KindOf(id), id);

    /// <inheritdoc />
    public async Task<bool> RemoveAsync(string id)
    {
        if (!state.State.SourceIds.Contains(id))
        {
            return false;
        }
        await Source(id).RemoveAsync();
        await WriteAsync(() =>
        {
            state.State.SourceIds.Remove(id);
            state.State.Kinds.Remove(id);
        });
        return true;
    }

    /// <inheritdoc />
    public async Task<SourceInfo?> PauseAsync(string id) =>
        state.State.SourceIds.Contains(id) ? await Source(id).PauseAsync() : null;

    /// <inheritdoc />
    public async Task<SourceInfo?> ResumeAsync(string id) =>
        state.State.SourceIds.Contains(id) ? await Source(id).ResumeAsync() : null;

    /// <inheritdoc />
    public Task EnsureRunningAsync() =>
        Task.WhenAll(state.State.SourceIds.Select(id => Source(id).EnsureRunningAsync()));
}

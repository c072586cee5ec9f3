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
    public async Task<SourceInfo> RegisterPostgresAsync(PostgresSourceSpec spec)
    {
        var shaped = PostgresSourceAdmin.ValidateShape(spec);
        if (state.State.SourceIds.Contains(shaped.Id))
        {
            throw new SourceValidationException($"source '{shaped.Id}' is already registered; remove it first to register it again");
        }
        var info = await GrainFactory.GetGrain<ISourceGrain>(shaped.Id).RegisterAsync(shaped);
        state.State.SourceIds.Add(shaped.Id);
        await state.WriteStateAsync();
        await ArmSupervisionAsync();
        return info;
    }

    /// <inheritdoc />
    public async Task<SourceInfo> RegisterDynamoAsync(DynamoSourceSpec spec)
    {
        var shaped = DynamoSourceAdmin.ValidateShape(spec);
        if (state.State.SourceIds.Contains(shaped.Id))
        {
            throw new SourceValidationException($"source '{shaped.Id}' is already registered; remove it first to register it again");
        }
        var info = await GrainFactory.GetGrain<IDynamoSourceGrain>(shaped.Id).RegisterAsync(shaped);
        state.State.SourceIds.Add(shaped.Id);
        state.State.Kinds[shaped.Id] = SourceKind.DynamoDb;
        await state.WriteStateAsync();
        await ArmSupervisionAsync();
        return info;
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
        state.State.SourceIds.Remove(id);
        state.State.Kinds.Remove(id);
        await state.WriteStateAsync();
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

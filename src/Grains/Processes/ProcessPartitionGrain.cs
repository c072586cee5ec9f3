using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Processes;

/// <summary>
/// One partition of a process: the <see cref="ProcessEngine"/> over the open instances whose business key hashes
/// here, fed by the stream of cleansed events the lake partitions route to it after each durable flush. Every
/// second it moves the watermark to the lowest "complete up to" of the process's sources, raising the deadlines it
/// passes; breaches go to the <see cref="BreachSink"/>. State is written every few seconds and on deactivation.
/// </summary>
[ImplicitStreamSubscription(ProcessCatalog.StreamNamespace)]
[ActivationCountBasedPlacement]
public sealed class ProcessPartitionGrain(
    [PersistentState("process-partition", SaikiNames.Storage)] IPersistentState<ProcessPartitionState> state,
    ProcessCatalog catalog,
    SourceWatermarks watermarks,
    BreachSink sink) : Grain, IProcessPartitionGrain, IStreamSubscriptionObserver, IAsyncObserver<ProcessEventBatch>
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SaveEvery = TimeSpan.FromSeconds(5);

    private ProcessEngine? _engine;
    private string[] _sources = [];
    private bool _dirty;
    private DateTimeOffset _savedAt = DateTimeOffset.UtcNow;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var name = this.GetPrimaryKeyString().Split('|')[0];
        if (await catalog.GetAsync(name) is { } process)
        {
            _engine = new ProcessEngine(process);
            _engine.Load(state.State);
            _sources = process.Definition.Steps.Select(s => s.Source).Distinct(StringComparer.Ordinal).ToArray();
        }
        this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(Tick, Tick));
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && _engine is not null)
        {
            await SaveAsync();
        }
    }

    /// <inheritdoc />
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<ProcessEventBatch>().ResumeAsync(this);

    /// <inheritdoc />
    public Task OnNextAsync(ProcessEventBatch batch, StreamSequenceToken? token = null)
    {
        if (_engine is null)
        {
            return Task.CompletedTask; // the process was removed
        }
        foreach (var e in batch.Events)
        {
            _engine.Add(e);
        }
        SaikiMetrics.ProcessEvents.Add(batch.Events.Count);
        _dirty = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task OnCompletedAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<PartitionProcessStats> GetStatsAsync() =>
        Task.FromResult(_engine?.Stats() ?? new PartitionProcessStats(0, 0, 0, 0, 0, 0, [], [], [], [], null));

    /// <inheritdoc />
    public Task<BreachPage> GetBreachesAsync(int count) => Task.FromResult(_engine?.Breaches(count) ?? new BreachPage(0, []));

    /// <inheritdoc />
    public Task<InstanceView?> GetInstanceAsync(string key) => Task.FromResult(_engine?.Find(key));

    /// <inheritdoc />
    public async Task ClearAsync()
    {
        _engine = null;
        await state.ClearStateAsync();
        this.DeactivateOnIdle();
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (_engine is null)
        {
            return;
        }
        if (await watermarks.MinimumAsync(_sources) is { } watermark && _engine.AdvanceWatermark(watermark.UtcTicks) is { Count: > 0 } breaches)
        {
            _dirty = true;
            await SaveAsync(); // a breach is kept before it is announced
            sink.Enqueue(_engine.Process.Definition, breaches);
        }
        if (_dirty && DateTimeOffset.UtcNow - _savedAt >= SaveEvery)
        {
            await SaveAsync();
        }
    }

    private async Task SaveAsync()
    {
        state.State = _engine!.Save();
        await state.WriteStateAsync();
        _dirty = false;
        _savedAt = DateTimeOffset.UtcNow;
    }
}

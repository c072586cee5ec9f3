using Microsoft.Extensions.Hosting;
using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Processes;

/// <summary>
/// This silo's copy of the registered processes (refreshed every second from the registry) and the
/// <see cref="ProcessRouter"/> built from them.
/// </summary>
public sealed class ProcessCatalog(IGrainFactory grains) : BackgroundService
{
    /// <summary>Stream namespace of <see cref="ProcessEventBatch"/>es, keyed by process partition.</summary>
    public const string StreamNamespace = "saiki-process";
    /// <summary>Most events in one stream message (memory streams refuse messages over 1 MiB).</summary>
    public const int MAX_BATCH = 4096;
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(1);

    private volatile IReadOnlyDictionary<string, CompiledProcess> _processes = new Dictionary<string, CompiledProcess>();
    private volatile ProcessRouter _router = new([]);

    /// <summary>A registered process by name, asking the registry when this silo has not seen it yet.</summary>
    public async Task<CompiledProcess?> GetAsync(string name)
    {
        if (!_processes.ContainsKey(name))
        {
            await RefreshAsync();
        }
        return _processes.GetValueOrDefault(name);
    }

    /// <summary>The events of a flushed run that matched some step, grouped by process partition stream key.</summary>
    public Dictionary<string, List<ProcessEvent>> Route(PartitionAddress partition, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> changes) =>
        _router.Route(partition, changes);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Refresh);
        do
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The silo may not be serving yet; the next round retries.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RefreshAsync()
    {
        var definitions = await grains.GetGrain<IProcessRegistryGrain>(0).GetDefinitionsAsync();
        var current = _processes;
        var processes = definitions.ToDictionary(d => d.Name,
            d => current.TryGetValue(d.Name, out var known) && known.Definition == d ? known : CompiledProcess.Compile(d), StringComparer.Ordinal);
        if (processes.Count != current.Count || processes.Any(p => !current.TryGetValue(p.Key, out var known) || known != p.Value))
        {
            _router = new ProcessRouter(processes.Values);
        }
        _processes = processes;
    }
}

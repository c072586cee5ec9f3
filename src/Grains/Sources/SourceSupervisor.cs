using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Sources;

/// <summary>
/// Runs on every silo and periodically asks the registry to make sure every source is capturing. A source whose
/// silo died is reactivated elsewhere by the next round, wherever the registry itself lives; the work is
/// idempotent, so several silos doing it at once is harmless.
/// </summary>
internal sealed class SourceSupervisor(IGrainFactory grains, IOptions<PipelineOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SupervisionInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await grains.GetGrain<ISourceRegistryGrain>(0).EnsureRunningAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The silo may not be serving yet, or the cluster is changing; the next round retries.
            }
        }
    }
}

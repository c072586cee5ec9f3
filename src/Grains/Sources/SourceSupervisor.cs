using Microsoft.Extensions.Hosting;
using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>
/// Wakes the source registry when a silo starts. The registry arms its supervision reminder on activation; with
/// durable reminders that is already done, but the embedded single-silo setup keeps reminders in memory, so a
/// restarted silo needs this first call to resume capture.
/// </summary>
internal sealed class SourceSupervisor(IGrainFactory grains) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await grains.GetGrain<ISourceRegistryGrain>(0).EnsureRunningAsync();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The silo may not be serving yet; try again shortly.
                await Task.Delay(Retry, stoppingToken);
            }
        }
    }
}

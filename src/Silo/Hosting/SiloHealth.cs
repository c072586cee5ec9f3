using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>
/// Probes for an orchestrator. Live: the process serves HTTP. Ready: this silo has joined its cluster (Active in
/// the membership it sees) and can serve a grain call; a silo that is joining, shutting down or cut off from
/// membership is not ready, so it gets no traffic.
/// </summary>
public static class SiloHealth
{
    /// <summary>Liveness path.</summary>
    public const string LivePath = "/healthz/live";
    /// <summary>Readiness path.</summary>
    public const string ReadyPath = "/healthz/ready";
    private const string ReadyTag = "ready";

    /// <summary>Adds the readiness check.</summary>
    public static IServiceCollection AddSiloHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<ClusterMembershipCheck>("cluster-membership", tags: [ReadyTag]);
        return services;
    }

    /// <summary>Maps both probes (no authorization: orchestrators call them).</summary>
    public static void MapSiloHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(LivePath, new() { Predicate = _ => false });
        app.MapHealthChecks(ReadyPath, new() { Predicate = c => c.Tags.Contains(ReadyTag) });
    }

    private sealed class ClusterMembershipCheck(IClusterMembershipService membership, ILocalSiloDetails silo, IGrainFactory grains) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            if (status != SiloStatus.Active)
            {
                return HealthCheckResult.Unhealthy($"silo is {status} in cluster membership");
            }
            try
            {
                // A cheap call through the runtime: the local silo's own management view answers it.
                await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                return HealthCheckResult.Unhealthy("grain calls are not served: " + e.GetType().Name);
            }
            return HealthCheckResult.Healthy();
        }
    }
}

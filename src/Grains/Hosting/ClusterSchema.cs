using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Saiki.Orleans.Diagnostics;

namespace Saiki.Orleans.Hosting;

/// <summary>
/// The PostgreSQL schema of Orleans' ADO.NET providers (membership with the defunct-silo cleanup, grain state,
/// reminders), shipped with the silo because the providers' packages carry none. Every script is idempotent, and
/// silos starting together serialize on an advisory lock, so applying it at every start-up is safe.
/// </summary>
public static class ClusterSchema
{
    private const string RESOURCE_PREFIX = "Saiki.Sql.";
    private const long ADVISORY_LOCK = 0x5A1C1_5C4E3A; // "saiki schema"

    /// <summary>The scripts in the order they apply.</summary>
    public static IReadOnlyList<string> Scripts { get; } = typeof(ClusterSchema).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(RESOURCE_PREFIX, StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Select(n => n[RESOURCE_PREFIX.Length..])
        .ToArray();

    /// <summary>Applies every script to the database; returns the names applied.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({ADVISORY_LOCK})", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            foreach (var script in Scripts)
            {
                await using var command = new NpgsqlCommand(Read(script), connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({ADVISORY_LOCK})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        return Scripts;
    }

    /// <summary>The text of one shipped script.</summary>
    public static string Read(string script)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(RESOURCE_PREFIX + script)
            ?? throw new ArgumentException($"no schema script named '{script}'", nameof(script));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Applies the schema before the silo's membership, storage and reminder providers start.</summary>
    internal sealed class Applier(IOptions<ClusterStateOptions> options, ILogger<Applier> logger) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(ClusterSchema), ServiceLifecycleStage.First, async ct =>
            {
                var o = options.Value;
                if (o.Kind == ClusterStateKind.AdoNet && o.ApplySchema)
                {
                    var applied = await ApplyAsync(o.ConnectionString!, ct);
                    ClusterLog.SchemaApplied(logger, applied.Count, new NpgsqlConnectionStringBuilder(o.ConnectionString).Database ?? "");
                }
            });
    }

    internal static IServiceCollection AddClusterSchemaApplier(this IServiceCollection services) =>
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Applier>();
}

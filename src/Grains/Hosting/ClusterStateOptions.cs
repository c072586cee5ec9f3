using Microsoft.Extensions.Options;
using Npgsql;

namespace Saiki.Orleans.Hosting;

/// <summary>How silos form a cluster: where it keeps its own state, and how work spreads. Section <c>Saiki:Cluster</c>.</summary>
public sealed class ClusterStateOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Cluster";
    /// <summary>ADO.NET invariant of the PostgreSQL provider.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// <see cref="ClusterStateKind.Embedded"/>: one machine — localhost clustering, grain state in files, reminders in
    /// memory. <see cref="ClusterStateKind.AdoNet"/>: membership, grain state and reminders in PostgreSQL, for a
    /// cluster of many silos.
    /// </summary>
    public ClusterStateKind Kind { get; set; } = ClusterStateKind.Embedded;
    /// <summary>PostgreSQL connection string of the cluster database (AdoNet only).</summary>
    public string? ConnectionString { get; set; }
    /// <summary>Apply the shipped schema (idempotent) at start-up before Orleans reads it (AdoNet only).</summary>
    public bool ApplySchema { get; set; } = true;
    /// <summary>Move existing activations (partition grains) between silos so each carries a fair share, e.g. onto
    /// silos that joined. Off by default: Orleans marks its rebalancer experimental, and a migrating partition makes
    /// its source replay from the checkpoint. New partitions and snapshot chunks go to the least loaded silo either
    /// way. Capture grains are exempt: they keep their replication connection and move only when their silo leaves.</summary>
    public bool Rebalance { get; set; }
    /// <summary>How long after start-up the first rebalancing session begins.</summary>
    public TimeSpan RebalanceDueTime { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Time between rebalancing cycles within a session.</summary>
    public TimeSpan RebalanceCyclePeriod { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Where cluster membership, grain state and reminders live.</summary>
public enum ClusterStateKind
{
    /// <summary>Single machine: localhost clustering, files, in-memory reminders.</summary>
    Embedded,
    /// <summary>PostgreSQL through Orleans' ADO.NET providers.</summary>
    AdoNet,
}

internal sealed class ClusterStateOptionsValidator : IValidateOptions<ClusterStateOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterStateOptions o)
    {
        if (o.Rebalance && (o.RebalanceDueTime <= TimeSpan.Zero || o.RebalanceCyclePeriod < TimeSpan.FromSeconds(2)))
        {
            return ValidateOptionsResult.Fail($"{ClusterStateOptions.Section}:RebalanceDueTime must be positive and RebalanceCyclePeriod at least 00:00:02");
        }
        if (o.Kind != ClusterStateKind.AdoNet)
        {
            return ValidateOptionsResult.Success;
        }
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            return ValidateOptionsResult.Fail($"{ClusterStateOptions.Section}:ConnectionString is required when {ClusterStateOptions.Section}:Kind is AdoNet");
        }
        try
        {
            _ = new NpgsqlConnectionStringBuilder(o.ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, never the value (it may hold a password).
            return ValidateOptionsResult.Fail($"{ClusterStateOptions.Section}:ConnectionString is not a PostgreSQL connection string: {e.Message}");
        }
        return ValidateOptionsResult.Success;
    }
}

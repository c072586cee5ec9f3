using Npgsql;
using Saiki.Orleans.Hosting;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>
/// <c>Saiki.Orleans.Silo schema apply</c>: applies the cluster schema to the database named by
/// <c>Saiki:Cluster:ConnectionString</c> (argument, environment <c>Saiki__Cluster__ConnectionString</c> or
/// appsettings), for deployments that start silos with <c>Saiki:Cluster:ApplySchema=false</c>.
/// </summary>
internal static class SchemaCommand
{
    public static async Task<int> ApplyAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var connectionString = configuration[$"{ClusterStateOptions.Section}:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"error: set {ClusterStateOptions.Section}:ConnectionString (e.g. --{ClusterStateOptions.Section}:ConnectionString=\"Host=…;Database=…\")");
            return 1;
        }
        try
        {
            var applied = await ClusterSchema.ApplyAsync(connectionString);
            var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
            await Console.Out.WriteLineAsync($"applied {string.Join(", ", applied)} to database {database}");
            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }
}

using Npgsql;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL database of its own in the test server for one cluster's state (membership, grain state,
/// reminders), so nothing a previous run left is seen; dropped at the end.
/// </summary>
public sealed class ClusterDatabase : IAsyncDisposable
{
    private ClusterDatabase(string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnection) { Database = name, Pooling = false }.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<ClusterDatabase> CreateAsync()
    {
        var db = new ClusterDatabase("saiki_cluster_" + Guid.NewGuid().ToString("N")[..12]);
        await AdminAsync($"CREATE DATABASE {db.Name}");
        return db;
    }

    /// <summary>Runs a query in this database and returns the first column of the first row.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync() => await AdminAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

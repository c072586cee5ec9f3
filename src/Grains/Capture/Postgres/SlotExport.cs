using Npgsql.Replication;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// A newly created slot: its consistent point and, while <see cref="SnapshotName"/> is set, the replication
/// connection that keeps the exported snapshot alive. Disposing it ends the export.
/// </summary>
public sealed class SlotExport(ulong consistentPoint, string? snapshotName, LogicalReplicationConnection? connection) : IAsyncDisposable
{
    private LogicalReplicationConnection? _connection = connection;

    /// <summary>LSN from which the slot streams; the snapshot shows everything committed before it.</summary>
    public ulong ConsistentPoint { get; } = consistentPoint;

    /// <summary>Name to pass to <c>SET TRANSACTION SNAPSHOT</c>; null once the export has ended.</summary>
    public string? SnapshotName => _connection is null ? null : snapshotName;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            _connection = null;
            await c.DisposeAsync();
        }
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// Reads one source's pgoutput stream on a thread-pool task and turns it into routed <see cref="CaptureItem"/>s.
/// The bounded channel is the back-pressure: when the source grain stops draining, reading stops and PostgreSQL
/// keeps the WAL. Npgsql reuses message objects, so everything is copied before the next message is read.
/// </summary>
public sealed class PostgresCapture : IAsyncDisposable
{
    private const int ChannelCapacity = 16_384;
    private readonly PostgresSourceSpec _spec;
    private readonly ColumnPolicy _policy;
    private readonly ILogger _logger;
    private readonly Channel<CaptureItem> _channel = Channel.CreateBounded<CaptureItem>(
        new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<uint, TableSchema> _schemas = new();
    private readonly Dictionary<TableSchema, Route> _routes = new(ReferenceEqualityComparer.Instance);
    private Route? _lastRoute;
    private LogicalReplicationConnection? _replication;
    private Task _reading = Task.CompletedTask;

    /// <summary>Creates a reader for a validated spec.</summary>
    public PostgresCapture(PostgresSourceSpec spec, ColumnPolicy policy, ILogger logger)
    {
        _spec = spec;
        _policy = policy;
        _logger = logger;
    }

    /// <summary>Captured items in source order; completes with the error that stopped reading.</summary>
    public ChannelReader<CaptureItem> Items => _channel.Reader;

    /// <summary>Connects and starts streaming from the slot's confirmed position.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var replication = new LogicalReplicationConnection(_spec.ConnectionString)
        {
            // Confirmations set by Confirm() reach the server within a second.
            WalReceiverStatusInterval = TimeSpan.FromSeconds(1),
        };
        await replication.Open(ct);
        _replication = replication;
        _reading = Task.Run(() => ReadAsync(replication, _stop.Token), CancellationToken.None);
    }

    /// <summary>Records that everything up to <paramref name="lsn"/> is durable; sent with the next status update.</summary>
    public void Confirm(ulong lsn) => _replication?.SetReplicationStatus(new NpgsqlLogSequenceNumber(lsn));

    /// <summary>Sends the confirmation now, then stops reading.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_replication is { } replication)
        {
            try
            {
                await replication.SendStatusUpdate(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
            {
                // The connection may already be broken; the server keeps the last confirmation it received.
            }
        }
        await _stop.CancelAsync();
        try
        {
            await _reading;
        }
        catch (OperationCanceledException)
        {
        }
        if (_replication is not null)
        {
            await _replication.DisposeAsync();
        }
        _stop.Dispose();
    }

    private async Task ReadAsync(LogicalReplicationConnection replication, CancellationToken ct)
    {
        try
        {
            await using var catalog = await PostgresSourceAdmin.OpenAsync(_spec.ConnectionString, ct);
            // messages: heartbeats arrive as logical decoding messages (see PostgresNames.HeartbeatPrefix).
            var options = new PgOutputReplicationOptions(PostgresNames.Publication(_spec.Id), PgOutputProtocolVersion.V1, messages: true);
            var slot = new PgOutputReplicationSlot(PostgresNames.Slot(_spec.Id));
            var writer = _channel.Writer;
            ulong commitLsn = 0;
            uint sequence = 0;
            var commitTime = DateTimeOffset.MinValue;

            await foreach (var message in replication.StartReplication(slot, options, ct))
            {
                switch (message)
                {
                    case BeginMessage begin:
                        commitLsn = (ulong)begin.TransactionFinalLsn;
                        commitTime = new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc));
                        sequence = 0;
                        break;
                    case RelationMessage relation:
                        var table = $"{relation.Namespace}.{relation.RelationName}";
                        // Columns and types as of this point in the WAL: a Relation message follows every schema change.
                        var columns = relation.Columns.Select(c => (c.ColumnName, c.DataTypeId, c.TypeModifier)).ToArray();
                        _schemas[relation.RelationId] = await PostgresSourceAdmin.LoadSchemaAsync(catalog, relation.RelationId, table, columns, ct);
                        break;
                    case InsertMessage insert:
                        {
                            var schema = _schemas[insert.Relation.RelationId];
                            var (after, _) = await ReadRowAsync(insert.NewRow, null, schema, ct);
                            await EmitAsync(writer, schema, new ChangeEvent(ChangeOperation.Insert, new(commitLsn, sequence++), commitTime, null, after), ct);
                            break;
                        }
                    case UpdateMessage update:
                        {
                            var schema = _schemas[update.Relation.RelationId];
                            var before = update switch
                            {
                                FullUpdateMessage full => (await ReadRowAsync(full.OldRow, null, schema, ct)).Row,
                                IndexUpdateMessage index => (await ReadRowAsync(index.Key, null, schema, ct)).Row,
                                _ => null,
                            };
                            // Only a full old row (REPLICA IDENTITY FULL) holds the values an update left out.
                            var (after, unchanged) = await ReadRowAsync(update.NewRow, update is FullUpdateMessage ? before : null, schema, ct);
                            if (before is not null && !schema.KeyOf(before).SequenceEqual(schema.KeyOf(after)))
                            {
                                // A key change moves the row to another partition: delete there, insert here (as Debezium does).
                                await EmitAsync(writer, schema, new ChangeEvent(ChangeOperation.Delete, new(commitLsn, sequence++), commitTime, before, null), ct);
                                await EmitAsync(writer, schema, new ChangeEvent(ChangeOperation.Insert, new(commitLsn, sequence++), commitTime, null, after, unchanged), ct);
                            }
                            else
                            {
                                await EmitAsync(writer, schema, new ChangeEvent(ChangeOperation.Update, new(commitLsn, sequence++), commitTime, before, after, unchanged), ct);
                            }
                            break;
                        }
                    case DeleteMessage delete:
                        {
                            var schema = _schemas[delete.Relation.RelationId];
                            var before = delete switch
                            {
                                FullDeleteMessage full => (await ReadRowAsync(full.OldRow, null, schema, ct)).Row,
                                KeyDeleteMessage key => (await ReadRowAsync(key.Key, null, schema, ct)).Row,
                                _ => throw new InvalidOperationException($"unexpected delete message {delete.GetType().Name}"),
                            };
                            await EmitAsync(writer, schema, new ChangeEvent(ChangeOperation.Delete, new(commitLsn, sequence++), commitTime, before, null), ct);
                            break;
                        }
                    case TruncateMessage truncate:
                        foreach (var relation in truncate.Relations)
                        {
                            var route = RouteOf(_schemas[relation.RelationId]);
                            var schema = route.Projection.Schema;
                            var position = new Position(commitLsn, sequence++);
                            // Every partition of the table holds rows that the truncate removes.
                            for (var p = 0; p < _spec.Partitions; p++)
                            {
                                await writer.WriteAsync(new CapturedChange(route.Addresses[p], schema,
                                    new ChangeEvent(ChangeOperation.Truncate, position, commitTime, null, null)), ct);
                            }
                        }
                        break;
                    case LogicalDecodingMessage { Prefix: PostgresNames.WatermarkPrefix } watermark:
                        {
                            using var text = new StreamReader(watermark.Data);
                            var parts = (await text.ReadToEndAsync(ct)).Split(':');
                            await writer.WriteAsync(new CapturedWatermark(parts[0] == "high", int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), (ulong)watermark.MessageLsn), ct);
                            break;
                        }
                    case LogicalDecodingMessage heartbeat:
                        {
                            using var text = new StreamReader(heartbeat.Data);
                            var content = await text.ReadToEndAsync(ct);
                            if (heartbeat.Prefix == PostgresNames.HeartbeatPrefix && (heartbeat.Flags & 1) == 0)
                            {
                                // Everything committed before the heartbeat has been read: like an empty transaction, it
                                // becomes confirmable once those changes are durable, even if no captured table changed.
                                var written = long.TryParse(content, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var micros)
                                    ? DateTimeOffset.UnixEpoch.AddTicks(micros * 10)
                                    : DateTimeOffset.UtcNow;
                                await writer.WriteAsync(new CapturedCommit((ulong)heartbeat.MessageLsn, written, Heartbeat: true), ct);
                            }
                            break;
                        }
                    case CommitMessage commit:
                        await writer.WriteAsync(new CapturedCommit((ulong)commit.TransactionEndLsn, commitTime), ct);
                        break;
                }
            }
            writer.TryComplete();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
        catch (Exception e)
        {
            CaptureLog.ReaderFailed(_logger, _spec.Id, e);
            _channel.Writer.TryComplete(e);
        }
    }

    private ValueTask EmitAsync(ChannelWriter<CaptureItem> writer, TableSchema source, ChangeEvent sourceChange, CancellationToken ct)
    {
        // Column rules apply before anything leaves the source; the key (and so the partition) is the projected one.
        var route = RouteOf(source);
        var change = route.Projection.Apply(sourceChange);
        var partition = KeyPartitioner.PartitionOf(route.Projection.Schema.KeyOf(change.KeyImage!), _spec.Partitions);
        SaikiMetrics.ChangesCaptured.Add(1);
        return writer.WriteAsync(new CapturedChange(route.Addresses[partition], route.Projection.Schema, change), ct);
    }

    // The hot path looks a schema's projection and partition addresses up once per schema, not once per change.
    private Route RouteOf(TableSchema source)
    {
        if (_lastRoute?.Source != source)
        {
            if (!_routes.TryGetValue(source, out var route))
            {
                var projection = _policy.For(source);
                route = new Route(source, projection, Enumerable.Range(0, _spec.Partitions).Select(p => new PartitionAddress(_spec.Id, source.Table, p)).ToArray());
                _routes[source] = route;
            }
            _lastRoute = route;
        }
        return _lastRoute;
    }

    private sealed record Route(TableSchema Source, ColumnPolicy.Projection Projection, PartitionAddress[] Addresses);

    /// <summary>
    /// Reads a tuple. Unchanged TOAST values are taken from <paramref name="previous"/> (a full old row) when there
    /// is one; otherwise their indexes are returned so the event marks them as unchanged instead of inventing a value.
    /// </summary>
    private static async Task<(string?[] Row, List<int>? Unchanged)> ReadRowAsync(ReplicationTuple tuple, string?[]? previous, TableSchema schema, CancellationToken ct)
    {
        var row = new string?[schema.Columns.Count];
        List<int>? unchanged = null;
        var i = 0;
        await foreach (var value in tuple.WithCancellation(ct))
        {
            if (value.IsUnchangedToastedValue)
            {
                if (previous is not null)
                {
                    row[i] = previous[i];
                }
                else
                {
                    (unchanged ??= []).Add(i);
                }
            }
            else
            {
                row[i] = value.IsDBNull ? null : await value.Get<string>(ct);
            }
            i++;
        }
        return (row, unchanged);
    }
}

using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.Internal;
using NpgsqlTypes;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// Reads one source's pgoutput stream on a thread-pool task and turns it into routed <see cref="CaptureItem"/>s.
/// The bounded channel is the back-pressure: when the source grain stops draining, reading stops and PostgreSQL
/// keeps the WAL. Each message is copied into one reused buffer and decoded by <see cref="PgOutputReader"/> before the next
/// is read.
/// </summary>
public sealed class PostgresCapture : IAsyncDisposable
{
    private const int ChannelCapacity = 16_384;
    private const int MessageBufferBytes = 1 << 16;
    private const int MaxRetainedBufferBytes = 1 << 20;
    private readonly PostgresSourceSpec _spec;
    private readonly ColumnPolicy _policy;
    private readonly ILogger _logger;
    private readonly Channel<CaptureItem> _channel = Channel.CreateBounded<CaptureItem>(
        new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<uint, TableSchema> _schemas = new();
    private readonly Dictionary<TableSchema, Route> _routes = new(ReferenceEqualityComparer.Instance);
    private Route? _lastRoute;
    private ulong _commitLsn;
    private uint _sequence;
    private DateTimeOffset _commitTime = DateTimeOffset.MinValue;
    private LogicalReplicationConnection? _replication;
    private Task _reading = Task.CompletedTask;
    private volatile bool _streaming;

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

    /// <summary>
    /// Sends the confirmation now, then stops reading and closes the connection, which ends the server's walsender
    /// and frees the slot. Whatever the confirmation meets, reading stops and the connection closes: a connection
    /// left open keeps the slot busy (a removal could not drop it) until the server times the connection out.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            // Only while the stream runs: before it has delivered anything there is nothing to confirm, and Npgsql
            // fails a status update sent while it starts or ends a stream (a NullReferenceException that also leaves
            // its feedback lock taken).
            if (_replication is { } replication && _streaming && !_reading.IsCompleted)
            {
                // Bounded: the update waits for Npgsql's feedback lock, which a failed update can leave taken.
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await replication.SendStatusUpdate(limit.Token);
            }
        }
        catch (Exception)
        {
            // Best effort, whatever it meets (a broken connection, a stream that ended meanwhile, the time limit):
            // the server keeps the last confirmation it received, and capture resumes from there.
        }
        finally
        {
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
    }

    private async Task ReadAsync(LogicalReplicationConnection replication, CancellationToken ct)
    {
        try
        {
            await using var catalog = await PostgresSourceAdmin.OpenAsync(_spec.ConnectionString, ct);
            // messages: heartbeats and watermarks arrive as logical decoding messages (see PostgresNames).
            var options = new Dictionary<string, string?>
            {
                ["proto_version"] = "1",
                ["publication_names"] = PostgresNames.Publication(_spec.Id),
                ["messages"] = "true",
            };
            var slot = new PgOutputReplicationSlot(PostgresNames.Slot(_spec.Id));
            var writer = _channel.Writer;
            var items = new List<CaptureItem>();
            var buffer = new byte[MessageBufferBytes];
            // Messages are decoded from their bytes by PgOutputReader: Npgsql's own pgoutput objects read every value
            // asynchronously, which cost more than everything else the reader does.
            await foreach (var message in replication.StartLogicalReplication(slot, ct, options: options))
            {
                _streaming = true;
                var length = checked((int)message.Data.Length);
                if (length > buffer.Length)
                {
                    buffer = new byte[Math.Max(length, buffer.Length * 2)];
                }
                await message.Data.ReadExactlyAsync(buffer.AsMemory(0, length), ct);
                if (buffer[0] == (byte)'R')
                {
                    // Columns and types as of this point in the WAL: a Relation message follows every schema change.
                    var (relationId, table, columns) = ReadRelation(buffer.AsSpan(0, length));
                    // A captured table renamed to a name no lake folder, grain or topic can carry goes on under a name that can.
                    table = PostgresNames.Carried(table);
                    _schemas[relationId] = await PostgresSourceAdmin.LoadSchemaAsync(catalog, relationId, table, columns, ct);
                    continue;
                }
                Decode(buffer.AsSpan(0, length), items);
                if (buffer.Length > MaxRetainedBufferBytes)
                {
                    // One huge row (a large TOAST value) does not keep its buffer for the life of the reader.
                    buffer = new byte[MessageBufferBytes];
                }
                foreach (var item in items)
                {
                    if (!writer.TryWrite(item))
                    {
                        await writer.WriteAsync(item, ct);
                    }
                }
                items.Clear();
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

    private static (uint Id, string Table, (string Name, uint TypeOid, int TypeModifier)[] Columns) ReadRelation(ReadOnlySpan<byte> message)
    {
        var reader = new PgOutputReader(message[1..]);
        var id = reader.ReadUInt32();
        var table = $"{reader.ReadCString()}.{reader.ReadCString()}";
        reader.ReadByte(); // replica identity setting
        var columns = new (string, uint, int)[reader.ReadInt16()];
        for (var i = 0; i < columns.Length; i++)
        {
            reader.ReadByte(); // flags (part of the key)
            columns[i] = (reader.ReadCString(), reader.ReadUInt32(), reader.ReadInt32());
        }
        return (id, table, columns);
    }

    /// <summary>Turns one pgoutput message other than Relation into the items it stands for.</summary>
    private void Decode(ReadOnlySpan<byte> message, List<CaptureItem> items)
    {
        var reader = new PgOutputReader(message[1..]);
        switch ((char)message[0])
        {
            case 'B':
                _commitLsn = reader.ReadUInt64();
                _commitTime = reader.ReadTimestamp();
                _sequence = 0;
                break;
            case 'C':
                reader.ReadByte(); // flags
                reader.ReadUInt64(); // commit LSN
                items.Add(new CapturedCommit(reader.ReadUInt64(), _commitTime));
                break;
            case 'I':
                {
                    var schema = SchemaOf(reader.ReadUInt32());
                    Expect(ref reader, 'N');
                    var (after, _) = reader.ReadTuple(schema.Columns.Count, null);
                    Emit(items, schema, new ChangeEvent(ChangeOperation.Insert, Next(), _commitTime, null, after));
                    break;
                }
            case 'U':
                {
                    var schema = SchemaOf(reader.ReadUInt32());
                    var kind = (char)reader.ReadByte();
                    var fullOldRow = kind == 'O';
                    string?[]? before = null;
                    if (kind is 'K' or 'O')
                    {
                        before = reader.ReadTuple(schema.Columns.Count, null).Row;
                        kind = (char)reader.ReadByte();
                    }
                    if (kind != 'N')
                    {
                        throw new InvalidDataException($"pgoutput: an update has '{kind}' where its new row begins");
                    }
                    // Only a full old row (REPLICA IDENTITY FULL) holds the values an update left out.
                    var (after, unchanged) = reader.ReadTuple(schema.Columns.Count, fullOldRow ? before : null);
                    if (before is not null && !schema.KeyOf(before).SequenceEqual(schema.KeyOf(after)))
                    {
                        // A key change moves the row to another partition: delete there, insert here (as Debezium does).
                        Emit(items, schema, new ChangeEvent(ChangeOperation.Delete, Next(), _commitTime, before, null));
                        Emit(items, schema, new ChangeEvent(ChangeOperation.Insert, Next(), _commitTime, null, after, unchanged));
                    }
                    else
                    {
                        Emit(items, schema, new ChangeEvent(ChangeOperation.Update, Next(), _commitTime, before, after, unchanged));
                    }
                    break;
                }
            case 'D':
                {
                    var schema = SchemaOf(reader.ReadUInt32());
                    var kind = (char)reader.ReadByte();
                    if (kind is not ('K' or 'O'))
                    {
                        throw new InvalidDataException($"pgoutput: a delete has '{kind}' where its old row begins");
                    }
                    var (before, _) = reader.ReadTuple(schema.Columns.Count, null);
                    Emit(items, schema, new ChangeEvent(ChangeOperation.Delete, Next(), _commitTime, before, null));
                    break;
                }
            case 'T':
                {
                    var count = reader.ReadInt32();
                    reader.ReadByte(); // CASCADE / RESTART IDENTITY
                    for (var r = 0; r < count; r++)
                    {
                        var route = RouteOf(SchemaOf(reader.ReadUInt32()));
                        var schema = route.Projection.Schema;
                        var position = Next();
                        // Every partition of the table holds rows that the truncate removes.
                        for (var p = 0; p < _spec.Partitions; p++)
                        {
                            items.Add(new CapturedChange(route.Addresses[p], schema, new ChangeEvent(ChangeOperation.Truncate, position, _commitTime, null, null)));
                        }
                    }
                    break;
                }
            case 'M':
                {
                    var transactional = (reader.ReadByte() & 1) != 0;
                    var lsn = reader.ReadUInt64();
                    var prefix = reader.ReadCString();
                    var content = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
                    if (prefix == PostgresNames.WatermarkPrefix)
                    {
                        // pgoutput gives a message the end of its record, where the next record starts: a transaction
                        // whose commit record follows the watermark has that same commit position. One less is after
                        // every commit before the watermark and before every commit after it (as the consistent point
                        // is for the initial snapshot).
                        var parts = content.Split(':', 2);
                        items.Add(new CapturedWatermark(parts[0] == "high", parts[1], lsn - 1));
                    }
                    else if (prefix == PostgresNames.HeartbeatPrefix && !transactional)
                    {
                        // Everything committed before the heartbeat has been read: like an empty transaction, it
                        // becomes confirmable once those changes are durable, even if no captured table changed.
                        var written = long.TryParse(content, NumberStyles.Integer, CultureInfo.InvariantCulture, out var micros)
                            ? DateTimeOffset.UnixEpoch.AddTicks(micros * 10)
                            : DateTimeOffset.UtcNow;
                        items.Add(new CapturedCommit(lsn, written, Heartbeat: true));
                    }
                    break;
                }
            case 'Y' or 'O':
                // Type and origin messages: types are read from the catalog with the relation.
                break;
            case var code:
                throw new InvalidDataException($"pgoutput: unexpected message '{code}' (streaming and two-phase decoding are not requested)");
        }
    }

    private static void Expect(ref PgOutputReader reader, char expected)
    {
        if ((char)reader.ReadByte() is var kind && kind != expected)
        {
            throw new InvalidDataException($"pgoutput: expected '{expected}' where '{kind}' was sent");
        }
    }

    private Position Next() => new(_commitLsn, _sequence++);

    private TableSchema SchemaOf(uint relationId) =>
        _schemas.TryGetValue(relationId, out var schema)
            ? schema
            : throw new InvalidDataException($"pgoutput: a change of relation {relationId} arrived before its Relation message");

    private void Emit(List<CaptureItem> items, TableSchema source, ChangeEvent sourceChange)
    {
        // Column rules apply before anything leaves the source; the key (and so the partition) is the projected one.
        var route = RouteOf(source);
        var change = route.Projection.Apply(sourceChange);
        var partition = KeyPartitioner.PartitionOf(route.Projection.Schema.KeyOf(change.KeyImage!), _spec.Partitions);
        SaikiMetrics.ChangesCaptured.Add(1);
        items.Add(new CapturedChange(route.Addresses[partition], route.Projection.Schema, change));
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
}

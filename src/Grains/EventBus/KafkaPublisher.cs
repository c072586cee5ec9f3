using System.Buffers;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.EventBus;

/// <summary>
/// Publishes cleansed changes to Kafka, one topic per table, key = the row's key as JSON, value = the change
/// envelope (see <see cref="ChangeEnvelope"/>). One idempotent producer per silo (acks=all). A flush awaits every
/// delivery before its position counts as durable, so a failed delivery keeps the changes buffered and retried;
/// Kafka therefore sees each change at least once, and the envelope's position lets consumers drop repeats.
/// </summary>
public sealed class KafkaPublisher : IDisposable
{
    private readonly KafkaOptions _options;
    private readonly IProducer<byte[], byte[]>? _producer;

    /// <summary>Creates the producer when Kafka is configured.</summary>
    public KafkaPublisher(IOptions<KafkaOptions> options)
    {
        _options = options.Value;
        if (!_options.Enabled)
        {
            return;
        }
        var config = new ProducerConfig(_options.Producer)
        {
            BootstrapServers = _options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            // Several partitions flush files of up to MaxBufferedChanges at once.
            QueueBufferingMaxMessages = 1_000_000,
            MessageTimeoutMs = (int)_options.DeliveryTimeout.TotalMilliseconds,
        };
        _producer = new ProducerBuilder<byte[], byte[]>(config).Build();
    }

    /// <summary>True when changes are published.</summary>
    public bool Enabled => _producer is not null;

    /// <summary>
    /// Publishes a run of one table partition's changes and waits until Kafka has acknowledged all of them;
    /// returns the changes Kafka can never take.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetter>> PublishAsync(PartitionAddress partition, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> changes, CancellationToken ct = default)
    {
        if (Begin(partition) is not { } batch)
        {
            return [];
        }
        foreach (var (schema, change) in changes)
        {
            batch.Add(schema, change);
        }
        return await batch.CompleteAsync(ct);
    }

    /// <summary>Publishes one message (a process breach) to <paramref name="topic"/> and waits for the delivery;
    /// false when Kafka is off.</summary>
    public async Task<bool> PublishMessageAsync(string topic, byte[] key, byte[] value, CancellationToken ct = default)
    {
        if (_producer is null)
        {
            return false;
        }
        await _producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = key, Value = value }, ct);
        return true;
    }

    /// <summary>Topic of a process's breaches.</summary>
    public static string BreachTopic(string process) => $"saiki.process.{process}.breaches";

    /// <summary>Starts a batch of changes to publish as they are produced (a snapshot chunk); null when Kafka is off.</summary>
    public KafkaBatch? Begin(PartitionAddress partition) =>
        _producer is null ? null : new KafkaBatch(_producer, partition, _options.TopicOf(partition.SourceId, partition.Table), _options.DeliveryTimeout);

    /// <inheritdoc />
    public void Dispose()
    {
        _producer?.Flush(TimeSpan.FromSeconds(10));
        _producer?.Dispose();
    }
}

/// <summary>
/// Messages produced one by one; <see cref="CompleteAsync"/> waits for every delivery. A message Kafka can never
/// take (too large for the broker or the producer) is not retried: it is returned as a dead letter with the reason,
/// so one oversized row does not stall its partition. Any other failure fails the batch, which is retried.
/// </summary>
public sealed class KafkaBatch
{
    private static readonly HashSet<Confluent.Kafka.ErrorCode> Permanent =
        [Confluent.Kafka.ErrorCode.MsgSizeTooLarge, Confluent.Kafka.ErrorCode.InvalidMsg, Confluent.Kafka.ErrorCode.InvalidMsgSize, Confluent.Kafka.ErrorCode.RecordListTooLarge];

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly PartitionAddress _partition;
    private readonly string _topic;
    private readonly TimeSpan _timeout;
    private readonly JsonLine _json = new(new ArrayBufferWriter<byte>(1024));
    private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<DeadLetter> _deadLetters = new();
    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery;
    private int _pending = 1; // the batch itself, until CompleteAsync
    private Error? _failure;

    internal KafkaBatch(IProducer<byte[], byte[]> producer, PartitionAddress partition, string topic, TimeSpan timeout)
    {
        _producer = producer;
        _partition = partition;
        _topic = topic;
        _timeout = timeout;
        _onDelivery = OnDelivery;
    }

    /// <summary>Produces one change (asynchronously; delivery is awaited by <see cref="CompleteAsync"/>).</summary>
    public void Add(TableSchema schema, ChangeEvent change)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = ChangeEnvelope.Key(_json, schema, change),
            Value = ChangeEnvelope.Value(_json, _partition, schema, change),
        };
        Interlocked.Increment(ref _pending);
        while (true)
        {
            try
            {
                _producer.Produce(_topic, message, _onDelivery);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                // The producer's local queue is full (several partitions flushing at once): let deliveries drain.
                Thread.Sleep(1); // deliveries are served by the producer's background poll thread; short, so the queue refills at once
            }
            catch (ProduceException<byte[], byte[]> e)
            {
                Failed(e.Error, message.Key, message.Value);
                Done();
                return;
            }
        }
    }

    /// <summary>Waits until Kafka acknowledged every message; returns the messages it can never take.</summary>
    public async Task<IReadOnlyList<DeadLetter>> CompleteAsync(CancellationToken ct = default)
    {
        Done();
        await _delivered.Task.WaitAsync(_timeout + TimeSpan.FromSeconds(5), ct);
        if (_failure is { } error)
        {
            throw new KafkaException(error);
        }
        lock (_deadLetters)
        {
            return _deadLetters.ToArray();
        }
    }

    /// <summary>One handler for every message of the batch (no state per message): a refused message's position is
    /// read back from its envelope.</summary>
    private void OnDelivery(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError)
        {
            Failed(report.Error, report.Message.Key, report.Message.Value);
        }
        Done();
    }

    private void Failed(Error error, byte[] key, byte[] value)
    {
        if (Permanent.Contains(error.Code))
        {
            lock (_deadLetters)
            {
                _deadLetters.Add(new DeadLetter(_partition, ChangeEnvelope.PositionOf(value), $"kafka: {error.Reason} ({error.Code})", key, value));
            }
        }
        else
        {
            _failure ??= error;
        }
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _delivered.TrySetResult();
        }
    }
}

/// <summary>A change a sink could not take, kept with the reason (the lake still has the change).</summary>
/// <param name="Partition">Where the change came from.</param>
/// <param name="Position">Its position.</param>
/// <param name="Reason">Why it was refused.</param>
/// <param name="Key">The message key that was refused.</param>
/// <param name="Value">The message value that was refused.</param>
public sealed record DeadLetter(PartitionAddress Partition, Position Position, string Reason, byte[] Key, byte[] Value);

/// <summary>
/// The Kafka message of one change. Key: <c>{"id":"7"}</c> (the row's key columns). Value:
/// <c>{"op":"c|u|d|t|r","source":{"id","table","lsn","seq","pos","commit_time"},"schema_version","key":{…},
/// "before":{…}|null,"after":{…}|null,"unchanged":[…]?}</c> — the same values as the lake's lines.
/// </summary>
public static class ChangeEnvelope
{
    private static readonly JsonName SchemaVersionName = new("schema_version");

    /// <summary>Encodes the key.</summary>
    public static byte[] Key(ArrayBufferWriter<byte> buffer, TableSchema schema, ChangeEvent change) =>
        Key(new JsonLine(buffer), schema, change);

    /// <summary>Encodes the key with a writer that is reused for every message (its buffer is reset first).</summary>
    internal static byte[] Key(JsonLine json, TableSchema schema, ChangeEvent change)
    {
        json.Clear();
        ChangeFile.WriteKey(json, schema, change);
        return json.Output.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the value.</summary>
    public static byte[] Value(ArrayBufferWriter<byte> buffer, PartitionAddress partition, TableSchema schema, ChangeEvent change) =>
        Value(new JsonLine(buffer), partition, schema, change);

    /// <summary>The position of the change an encoded value carries (<c>source.pos</c>).</summary>
    public static Position PositionOf(byte[] value)
    {
        using var envelope = JsonDocument.Parse(value);
        return Position.ParseKey(envelope.RootElement.GetProperty("source").GetProperty("pos").GetString()!);
    }

    /// <summary>Encodes the value with a writer that is reused for every message (its buffer is reset first).</summary>
    internal static byte[] Value(JsonLine json, PartitionAddress partition, TableSchema schema, ChangeEvent change)
    {
        json.Clear();
        json.StartObject();
        ChangeFile.WriteOperation(json, change.Operation);
        json.Name(ChangeFile.SourceName);
        json.StartObject();
        ChangeFile.WriteOrigin(json, partition, change, ChangeFile.IdName);
        json.EndObject();
        json.String(SchemaVersionName, schema.Version);
        ChangeFile.WriteImages(json, schema, change);
        json.EndObject();
        return json.Output.WrittenSpan.ToArray();
    }
}

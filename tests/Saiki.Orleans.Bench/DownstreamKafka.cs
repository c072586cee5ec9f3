using System.Buffers;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Saiki.Orleans.EventBus;

using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The Kafka event bus against a plain producer, on librdkafka's in-process mock cluster. Saiki's side is
/// <see cref="KafkaPublisher.PublishAsync"/> per file-sized batch, one worker per partition, each waiting for its
/// batch to be acknowledged before the next, as a partition grain's flush does. The baseline is one loop producing
/// the same messages, encoded beforehand with the publisher's own <see cref="ChangeEnvelope"/>, through a producer
/// configured as the publisher's (idempotent, acks=all, same linger), then one Flush. Every attempt gets a fresh
/// topic: the mock keeps only 5 MiB per partition, which is harmless here because nothing consumes.
/// </summary>
internal sealed class DownstreamKafka(DownstreamOptions options, BenchResults results, CancellationToken ct)
{
    private const int Brokers = 3;

    public async Task RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var data = SyntheticOrders.Generate(options.KafkaRows, options.Partitions, options.FileRows);
        var buffer = new ArrayBufferWriter<byte>(1024);
        var messages = data
            .SelectMany(p => p.Files.SelectMany(f => f).Select(c => new Message<byte[], byte[]>
            {
                Key = ChangeEnvelope.Key(buffer, c.Schema, c.Event),
                Value = ChangeEnvelope.Value(buffer, p.Address, c.Schema, c.Event),
            }))
            .ToArray();
        var valueBytes = messages.Sum(m => (long)m.Value.Length);
        Log.Info($"kafka: {messages.Length:N0} changes generated and encoded in {clock.Elapsed.TotalSeconds:F1} s (values {valueBytes / (double)messages.Length:F0} bytes on average)");
        results.Set("kafka_messages", messages.Length, "F0");
        results.Set("kafka_value_bytes_avg", valueBytes / (double)messages.Length, "F0");

        using var mock = new KafkaMockCluster(Brokers);
        Log.Info($"kafka: mock cluster of {Brokers} brokers at {mock.BootstrapServers}; topics of {options.KafkaPartitions} partitions");
        var producerSeconds = new List<double>();
        var saikiSeconds = new List<double>();
        for (var run = 1; run <= options.Repeat; run++)
        {
            var topic = $"bench-producer-{run}";
            mock.CreateTopic(topic, options.KafkaPartitions);
            var (ok, plain) = await DownstreamBench.AttemptAsync($"kafka producer run {run}", options.Timeout, results, ct,
                t => Task.Run(() => ProducerLoop(mock.BootstrapServers, options.KafkaProducer, topic, messages, t), t));
            if (ok)
            {
                Log.Info($"producer run {run}: {messages.Length:N0} messages in {plain:F2} s = {messages.Length / plain:N0} rows/s");
                producerSeconds.Add(plain);
            }

            var kafka = new KafkaOptions
            {
                BootstrapServers = mock.BootstrapServers,
                TopicTemplate = $"bench-saiki-{run}.{{source}}.{{table}}",
                Producer = new Dictionary<string, string>(options.KafkaProducer),
            };
            mock.CreateTopic(kafka.TopicOf(SyntheticOrders.Source, SyntheticOrders.Table), options.KafkaPartitions);
            (ok, var saiki) = await DownstreamBench.AttemptAsync($"kafka saiki run {run}", options.Timeout, results, ct,
                t => PublishAsync(kafka, data, options.FileRows, t));
            if (ok)
            {
                Log.Info($"saiki run {run}: {options.KafkaRows:N0} changes in {saiki:F2} s = {options.KafkaRows / saiki:N0} rows/s");
                saikiSeconds.Add(saiki);
            }
        }
        var bestProducer = DownstreamBench.Best(producerSeconds);
        var bestSaiki = DownstreamBench.Best(saikiSeconds);
        results.Set("kafka_rows_per_s", options.KafkaRows / bestSaiki, "F0");
        results.Set("producer_rows_per_s", messages.Length / bestProducer, "F0");
        results.Set("kafka_ratio_vs_producer", bestProducer / bestSaiki, "F3");
    }

    /// <summary>One worker per partition, one <see cref="KafkaPublisher.PublishAsync"/> per file-sized batch.</summary>
    private static async Task<double> PublishAsync(KafkaOptions kafka, IReadOnlyList<PartitionFiles> data, int fileRows, CancellationToken t)
    {
        // Built outside the clock, as the plain producer is: a silo builds its publisher once.
        using var publisher = new KafkaPublisher(Options.Create(kafka));
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(data.Select(p => Task.Run(async () =>
            {
                foreach (var file in p.Files)
                {
                    var refused = await publisher.PublishAsync(p.Address, file, t);
                    if (refused.Count > 0)
                    {
                        throw new InvalidOperationException($"Kafka refused {refused.Count} changes: {refused[0].Reason}");
                    }
                }
            }, t)));
        }
        catch (KafkaException e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
        {
            // A partition grain would fail this flush and retry it later, producing again what did get through.
            var limit = kafka.Producer.GetValueOrDefault("queue.buffering.max.messages", "100000 (librdkafka's default)");
            throw new InvalidOperationException(
                $"KafkaPublisher failed a batch with '{e.Error.Reason}': {data.Count} partitions publishing batches of up to {fileRows:N0} " +
                $"changes at once outgrow the producer's local queue (queue.buffering.max.messages = {limit}), and KafkaBatch.Add " +
                "does not wait for room", e);
        }
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A plain producer loop: produce everything, waiting only when the local queue is full, then Flush.</summary>
    private static double ProducerLoop(string bootstrapServers, Dictionary<string, string> settings, string topic, Message<byte[], byte[]>[] messages, CancellationToken t)
    {
        // Built as KafkaPublisher builds its producer.
        var config = new ProducerConfig(settings)
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            MessageTimeoutMs = (int)new KafkaOptions().DeliveryTimeout.TotalMilliseconds,
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        long failed = 0;
        string? firstError = null;
        void OnDelivery(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError && Interlocked.Increment(ref failed) == 1)
            {
                firstError = $"{report.Error.Reason} ({report.Error.Code})";
            }
        }
        var clock = Stopwatch.StartNew();
        foreach (var message in messages)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, OnDelivery);
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
                {
                    t.ThrowIfCancellationRequested();
                    Thread.Sleep(1);
                }
            }
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(100)) > 0)
        {
            t.ThrowIfCancellationRequested();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (Interlocked.Read(ref failed) > 0)
        {
            throw new InvalidOperationException($"{failed} messages were not delivered, the first: {firstError}");
        }
        return seconds;
    }
}

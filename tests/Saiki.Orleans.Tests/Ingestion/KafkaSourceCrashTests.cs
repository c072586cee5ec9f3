using System.Text.Json;
using Confluent.Kafka;
using Orleans;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.EventBus;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>The silo consuming a Kafka topic is killed mid-stream: the lake still holds every event exactly once, in order
/// (as JSON Lines files here; in the Iceberg event table in <see cref="KafkaSourceIcebergCrashTests"/>).</summary>
public sealed class KafkaSourceCrashTests(KafkaPipelineCluster fixture) : KafkaSourceCrashCheck(fixture), IClassFixture<KafkaPipelineCluster>
{
    protected override async Task<List<string>> WrittenAsync(string id, int expected)
    {
        var files = new EventFiles(Fixture.Lake, Fixture.Layout);
        return await Eventually.MatchAsync(() => files.ReadAllAsync(files.SourcePrefix(id)), l => l.Count >= expected, TimeSpan.FromSeconds(90));
    }
}

/// <summary>The Kafka source writes its Iceberg event table (the lake's default format); icebird reads it.</summary>
public sealed class KafkaSourceIcebergCrashTests(KafkaIcebergPipelineCluster fixture) : KafkaSourceCrashCheck(fixture), IClassFixture<KafkaIcebergPipelineCluster>
{
    protected override async Task<List<string>> WrittenAsync(string id, int expected)
    {
        var rows = await Fixture.ReadEventTableAsync(EventTable.KafkaSource(id), EventTable.KafkaTable, expected, TimeSpan.FromSeconds(90));
        // In write order: the write's sequence, then the event's place in it.
        return rows
            .OrderBy(r => long.Parse(ChangelogReplay.Text(r.GetProperty("__lsn"))!, System.Globalization.CultureInfo.InvariantCulture))
            .ThenBy(r => long.Parse(ChangelogReplay.Text(r.GetProperty("__seq"))!, System.Globalization.CultureInfo.InvariantCulture))
            .Select(r => r.GetProperty("event").GetString()!).ToList();
    }
}

/// <summary>A Kafka-source cluster whose lake is Iceberg.</summary>
public class KafkaIcebergPipelineCluster : KafkaPipelineCluster
{
    protected override IEnumerable<KeyValuePair<string, string?>> LakeSettings =>
    [
        new("Saiki:Lake:Format", "Iceberg"),
        new("Saiki:Lake:Iceberg:CommitInterval", "00:00:00.300"),
    ];
}

/// <summary>The crash check, on the lake format a derived class reads.</summary>
public abstract class KafkaSourceCrashCheck(KafkaPipelineCluster fixture)
{
    protected KafkaPipelineCluster Fixture => fixture;

    /// <summary>The events the lake holds for the source, as JSON text, in the order written, once at least <paramref name="expected"/> are there.</summary>
    protected abstract Task<List<string>> WrittenAsync(string id, int expected);

    [Fact]
    public async Task KillingTheConsumingSilo_MidStream_LosesNothing_AndWritesNothingTwice()
    {
        var topic = "crash.events." + Guid.NewGuid().ToString("N")[..6];
        var id = "kcrash-" + Guid.NewGuid().ToString("N")[..6];
        fixture.Kafka.CreateTopic(topic, 3);
        var t0 = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, 1500).Select(n => (Eid: Guid.NewGuid(), N: n)).ToArray();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers }).Build();
        var produced = 0;
        var producing = Task.Run(async () =>
        {
            foreach (var (eid, n) in events)
            {
                var value = JsonSerializer.Serialize(new { metadata = new { eid, occurred_at = t0.AddMilliseconds(100 * n).ToString("O") }, n });
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{n % 7}", Value = value });
                Interlocked.Increment(ref produced);
                await Task.Delay(3);
            }
        });
        var source = fixture.Cluster.Client.GetGrain<IKafkaSourceGrain>(id);
        await source.RegisterAsync(new KafkaSourceSpec(id, fixture.Kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(2)));
        await Eventually.MatchAsync(async () => (await source.GetAsync())!.Written, w => w >= 200);

        var victim = await fixture.KillSiloHoldingAsync(source);
        await producing;

        var written = await WrittenAsync(id, events.Length);
        Assert.Equal(events.Select(e => e.N), written.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("n").GetInt32()));
        Assert.Equal((long)events.Length, (await source.GetAsync())!.Written);
        var files = new EventFiles(fixture.Lake, fixture.Layout);
        Assert.Empty(await files.ReadAllAsync(files.LatePrefix(id)));
        Assert.True(fixture.Cluster.TryGetGrainContext(source.GetGrainId(), out var moved));
        Assert.NotEqual(victim.SiloAddress, moved!.Address.SiloAddress);
        Assert.True(await source.RemoveAsync());
    }
}

using System.Text.Json;
using Confluent.Kafka;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.EventBus;

/// <summary>The pipeline with the Kafka event bus on, against librdkafka's mock cluster (real wire protocol).</summary>
public class KafkaPipelineCluster : PipelineCluster
{
    public KafkaMockCluster Kafka { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Kafka:BootstrapServers", Kafka.BootstrapServers),
        new("Saiki:Kafka:TopicTemplate", "saiki.{source}.{table}"),
        .. LakeSettings,
    ];

    /// <summary>Lake settings a derived cluster adds.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> LakeSettings => [];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Kafka.Dispose();
    }
}

public sealed class KafkaEventBusTests(KafkaPipelineCluster fixture) : IClassFixture<KafkaPipelineCluster>
{
    [Fact]
    public async Task EveryLakeChange_IsOnTheTablesTopic_InKeyOrder_ThroughProduceErrorsAndABrokerOutage()
    {
        await using var db = await TestDatabase.CreateAsync("bus");
        var s = db.Name;
        var topic = $"saiki.{s}.{s}.orders";
        fixture.Kafka.CreateTopic(topic, 3);
        await db.ExecuteAsync($"CREATE TABLE {s}.orders (id int PRIMARY KEY, status text); INSERT INTO {s}.orders VALUES (1, 'old'), (2, 'old')");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.orders"], 2));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);

        fixture.Kafka.FailNextProduceRequests(6, 6, 7);  // NOT_LEADER_OR_FOLLOWER twice, REQUEST_TIMED_OUT: retried by the producer
        await db.ExecuteAsync($"INSERT INTO {s}.orders SELECT g, 'new' FROM generate_series(3, 100) g");
        fixture.Kafka.SetBrokersDown(true);
        await db.ExecuteAsync($"UPDATE {s}.orders SET status = 'paid' WHERE id % 3 = 0; DELETE FROM {s}.orders WHERE id % 10 = 0");
        await Task.Delay(3000);
        fixture.Kafka.SetBrokersDown(false);
        await db.ExecuteAsync($"UPDATE {s}.orders SET status = 'shipped' WHERE id % 3 = 0");

        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.orders", ["id"], 2);
        var lake = new List<LakeRecord>();
        await foreach (var entry in new Manifest(fixture.Lake, fixture.Layout).ListTableAsync(s, $"{s}.orders"))
        {
            lake.AddRange(ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!));
        }
        Assert.Equal(replay.Changes + replay.SnapshotRows, lake.Count);

        var messages = Consume(topic, lake.Count);
        Assert.Equal(lake.Select(r => r.Position.ToKey()).Order(), messages.Select(m => m.Pos).Order());
        foreach (var perKey in messages.GroupBy(m => (m.Partition, m.Key)))
        {
            var positions = perKey.Select(m => m.Pos).ToList();
            Assert.Equal(positions.Order(StringComparer.Ordinal), positions);
        }
        var paid = messages.Single(m => m.Op == "u" && m.Value.GetProperty("after").GetProperty("id").GetString() == "3" && m.Value.GetProperty("after").GetProperty("status").GetString() == "paid");
        Assert.Equal("{\"id\":\"3\"}", paid.Key);
        Assert.Equal(s, paid.Value.GetProperty("source").GetProperty("id").GetString());
        Assert.Equal($"{s}.orders", paid.Value.GetProperty("source").GetProperty("table").GetString());
        Assert.Equal(12, paid.Value.GetProperty("schema_version").GetString()!.Length);
        Assert.Equal(2, messages.Count(m => m.Op == "r"));
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    [Fact]
    public async Task RowTooLargeForKafka_GoesToTheDeadLetterLocationWithTheReason_AndTheRestKeepsFlowing()
    {
        await using var db = await TestDatabase.CreateAsync("dead");
        var s = db.Name;
        var topic = $"saiki.{s}.{s}.docs";
        fixture.Kafka.CreateTopic(topic, 1);
        await db.ExecuteAsync($"CREATE TABLE {s}.docs (id int PRIMARY KEY, body text)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.docs"], 1, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"INSERT INTO {s}.docs VALUES (1, 'small')");
        await db.ExecuteAsync($"INSERT INTO {s}.docs VALUES (2, repeat('x', 2000000))");
        await db.ExecuteAsync($"INSERT INTO {s}.docs VALUES (3, 'after')");
        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.docs", ["id"], 1);
        Assert.Equal(2_000_000, replay.Rows["2"]["body"]!.Length);
        var messages = Consume(topic, 2);
        Assert.Equal(["{\"id\":\"1\"}", "{\"id\":\"3\"}"], messages.Select(m => m.Key));

        var letters = new List<JsonElement>();
        await foreach (var key in fixture.Lake.ListAsync(fixture.Layout.DeadLetterPrefix(s, $"{s}.docs")))
        {
            letters.Add(JsonDocument.Parse((await fixture.Lake.GetAsync(key))!).RootElement.Clone());
        }
        var letter = Assert.Single(letters);
        Assert.Contains("MsgSizeTooLarge", letter.GetProperty("reason").GetString());
        Assert.Equal("{\"id\":\"2\"}", letter.GetProperty("key").GetString());
        Assert.True(letter.GetProperty("value").GetString()!.Length > 2_000_000);
        // The letter is filed under the refused change's own position: between the rows written before and after it.
        var pos = letter.GetProperty("pos").GetString()!;
        Assert.True(string.CompareOrdinal(messages[0].Pos, pos) < 0 && string.CompareOrdinal(pos, messages[1].Pos) < 0,
            $"dead letter position {pos} is not between {messages[0].Pos} and {messages[1].Pos}");
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    private List<(int Partition, string Key, string Pos, string Op, JsonElement Value)> Consume(string topic, int expected) =>
        KafkaTopicReader.Read(fixture.Kafka.BootstrapServers, topic, expected).Select(r =>
        {
            var value = JsonDocument.Parse(r.Message.Value).RootElement.Clone();
            return (r.Partition.Value, r.Message.Key, value.GetProperty("source").GetProperty("pos").GetString()!, value.GetProperty("op").GetString()!, value);
        }).ToList();
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using DuckDB.NET.Data;
using Saiki.Orleans.Client;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>
/// On the silo as shipped (local lake, Iceberg the default), events posted over REST and events of a Kafka topic
/// land in append-only Iceberg event tables: typed from the event type's JSON Schema (a new optional property
/// becomes a new column), every accepted event once (repeats by eid dropped, however the UUID is spelled), listed by
/// the REST catalog under <c>[_events]</c> and <c>[_kafka]</c> as iceberg-js sees it, read by icebird through the
/// catalog's metadata location, and by DuckDB from the data files with the columns' types.
/// </summary>
public sealed class IcebergEventTableTests : IAsyncLifetime
{
    private readonly KafkaMockCluster _kafka = new();
    private TestSilo _silo = null!;

    private const string SchemaV1 = """
        {"type":"object","required":["metadata","order_id","total"],
         "properties":{"order_id":{"type":"string"},"total":{"type":"number"},"qty":{"type":["integer","null"]},"paid":{"type":"boolean"},
                       "placed_at":{"type":"string","format":"date-time"},"lines":{"type":"array"}}}
        """;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(null, "--Saiki:Lake:Format=Iceberg",
        "--Saiki:Lake:Iceberg:CommitInterval=00:00:00.300", "--Saiki:Pipeline:FlushInterval=00:00:00.500");

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _kafka.Dispose();
    }

    private static object Event(string eid, string occurredAt, object body)
    {
        var node = JsonSerializer.SerializeToNode(body)!.AsObject();
        node["metadata"] = JsonSerializer.SerializeToNode(new { eid, occurred_at = occurredAt });
        return node;
    }

    [Fact]
    public async Task PostedEventsAndAKafkaTopic_AreTypedAppendOnlyIcebergTables_InTheCatalog_ReadByIcebirdAndDuckDB()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var type = $"order.placed-{suffix}";
        var http = _silo.Http;
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(SchemaV1).RootElement })).StatusCode);
        var eids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();
        async Task<EventOutcome[]> PostAsync(params object[] events)
        {
            var answer = await http.PostAsJsonAsync($"/event-types/{type}/events", events);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
            return (await answer.Content.ReadFromJsonAsync<EventResult[]>(SaikiRestClient.Json))!.Select(r => r.Outcome).ToArray();
        }
        Assert.All(await PostAsync(
            Event(eids[0].ToString(), "2026-11-27T10:15:00.123456+01:00", new { order_id = "o-0", total = 10.5, qty = 2, paid = true, placed_at = "2026-11-27T10:14:59.5Z", lines = new[] { new { sku = "a" } } }),
            Event(eids[1].ToString(), "2026-11-27T09:16:00Z", new { order_id = "o-1", total = 0, qty = (int?)null, paid = false }),
            // The same UUID spelled in upper case with braces: the eid column holds its one spelling.
            Event("{" + eids[2].ToString().ToUpperInvariant() + "}", "2026-11-27T09:17:00Z", new { order_id = "o-2", total = 3.25, qty = 1e20 })),
            o => Assert.Equal(EventOutcome.Accepted, o));
        Assert.Equal([EventOutcome.Duplicate, EventOutcome.Accepted], await PostAsync(
            Event(eids[2].ToString(), "2026-11-27T09:17:00Z", new { order_id = "o-2 again", total = 3.25 }),
            Event(eids[3].ToString(), "2026-11-27T09:18:00Z", new { order_id = "o-3", total = 1e300, qty = 9007199254740993L })));
        // A compatible new version adds an optional property: a new column, null in the rows before it.
        var v2 = SchemaV1.Replace("\"lines\":{\"type\":\"array\"}", "\"lines\":{\"type\":\"array\"},\"note\":{\"type\":\"string\"}", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(v2).RootElement })).StatusCode);
        Assert.Equal([EventOutcome.Accepted], await PostAsync(Event(eids[4].ToString(), "2026-11-27T09:19:00Z", new { order_id = "o-4", total = 7, note = "first note" })));

        // A Kafka topic: 3 partitions, 50 events, 10 of them sent twice.
        var topic = $"orders.events.{suffix}";
        var kafkaId = $"korders-{suffix}";
        _kafka.CreateTopic(topic, 3);
        var t0 = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        var kafkaEvents = Enumerable.Range(0, 50).Select(n => (Eid: Guid.NewGuid(), N: n)).ToArray();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            foreach (var (eid, n) in kafkaEvents.Concat(kafkaEvents.Take(10)))
            {
                var value = JsonSerializer.Serialize(new { metadata = new { eid, occurred_at = t0.AddSeconds(n).ToString("O") }, n });
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{n % 7}", Value = value });
            }
        }
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/sources/kafka",
            new KafkaSourceSpec(kafkaId, _kafka.BootstrapServers, topic, AllowedLateness: TimeSpan.FromSeconds(1)), SaikiRestClient.Json)).StatusCode);
        await Eventually.MatchAsync(() => http.GetFromJsonAsync<KafkaSourceInfo>($"/api/sources/kafka/{kafkaId}", SaikiRestClient.Json), i => i!.Written == 50, TimeSpan.FromSeconds(60));

        // Both tables are committed with every event once.
        Assert.Equal(5L, await Eventually.MatchAsync(() => TotalRecordsAsync($"_events/tables/{type}"), r => r == 5));
        Assert.Equal(50L, await Eventually.MatchAsync(() => TotalRecordsAsync($"_kafka/tables/{kafkaId}"), r => r == 50));

        var walk = await IcebergCatalogScript.RunAsync(new Uri(_silo.Url, "iceberg").ToString());
        var namespaces = walk.GetProperty("namespaces").EnumerateArray().Select(n => string.Join('.', n.EnumerateArray().Select(x => x.GetString()))).ToArray();
        Assert.Equal(["_events", "_kafka"], namespaces);
        var tables = walk.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal([kafkaId, type], tables.Keys.Order(StringComparer.Ordinal));

        // The event type's table: typed columns, as its metadata says and icebird reads.
        var posted = tables[type];
        var metadata = posted.GetProperty("metadata");
        Assert.Equal("events", metadata.GetProperty("properties").GetProperty("saiki.table-kind").GetString());
        var schema = metadata.GetProperty("schemas").EnumerateArray().Single(s => s.GetProperty("schema-id").GetInt32() == metadata.GetProperty("current-schema-id").GetInt32());
        var types = schema.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("type").GetString());
        Assert.Equal(("uuid", "timestamptz", "string", "double", "long", "boolean", "timestamptz", "string", "string", "string"),
            (types["eid"], types["occurred_at"], types["order_id"], types["total"], types["qty"], types["paid"], types["placed_at"], types["lines"], types["note"], types["event"]));
        var rows = (await Icebird.ReadAsync(posted.GetProperty("metadataLocation").GetString()!)).GetProperty("rows").EnumerateArray()
            .ToDictionary(r => Eid(r)); // icebird gives a uuid as hex
        Assert.Equal(eids.Select(e => e.ToString()).Order(), rows.Keys.Order());
        var r0 = rows[eids[0].ToString()];
        Assert.Equal(("o-0", 10.5, "2", true), (r0.GetProperty("order_id").GetString(), r0.GetProperty("total").GetDouble(), ChangelogReplay.Text(r0.GetProperty("qty")), r0.GetProperty("paid").GetBoolean()));
        Assert.StartsWith("2026-11-27T09:15:00.123", r0.GetProperty("occurred_at").GetString());
        Assert.StartsWith("2026-11-27T10:14:59.5", r0.GetProperty("placed_at").GetString());
        Assert.Equal("a", JsonDocument.Parse(r0.GetProperty("lines").GetString()!).RootElement[0].GetProperty("sku").GetString());
        Assert.Equal(JsonValueKind.Null, r0.GetProperty("note").ValueKind);
        var r1 = rows[eids[1].ToString()];
        Assert.Equal((JsonValueKind.Null, false), (r1.GetProperty("qty").ValueKind, r1.GetProperty("paid").GetBoolean()));
        // A value its column cannot hold is null there; the event column keeps the event as posted.
        var r2 = rows[eids[2].ToString()];
        Assert.Equal((JsonValueKind.Null, "o-2"), (r2.GetProperty("qty").ValueKind, r2.GetProperty("order_id").GetString()));
        Assert.Equal(1e20, JsonDocument.Parse(r2.GetProperty("event").GetString()!).RootElement.GetProperty("qty").GetDouble());
        var r3 = rows[eids[3].ToString()];
        Assert.Equal(("9007199254740993", 1e300), (ChangelogReplay.Text(r3.GetProperty("qty")), r3.GetProperty("total").GetDouble()));
        Assert.Equal("first note", rows[eids[4].ToString()].GetProperty("note").GetString());
        Assert.All(rows.Values, r => Assert.Equal("c", r.GetProperty("__op").GetString()));

        // The Kafka source's table: every event once, with its partition and offset.
        var kafkaRows = (await Icebird.ReadAsync(tables[kafkaId].GetProperty("metadataLocation").GetString()!)).GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(kafkaEvents.Select(e => e.Eid.ToString()).Order(), kafkaRows.Select(Eid).Order());
        Assert.Equal(kafkaEvents.Select(e => e.N), kafkaRows.Select(r => JsonDocument.Parse(r.GetProperty("event").GetString()!).RootElement.GetProperty("n").GetInt32()).Order());
        Assert.All(kafkaRows, r => Assert.InRange(r.GetProperty("kafka_partition").GetInt32(), 0, 2));
        Assert.Equal(50, kafkaRows.Select(r => (r.GetProperty("kafka_partition").GetInt32(), ChangelogReplay.Text(r.GetProperty("kafka_offset")))).Distinct().Count());

        // DuckDB reads the data files with the columns' types.
        var data = Path.Combine(_silo.Work, "lake", "_events", type, "data", "*.parquet");
        await using var duck = new DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync();
        await using var command = duck.CreateCommand();
        command.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{data}', union_by_name = true))";
        var duckTypes = new Dictionary<string, string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                duckTypes[reader.GetString(0)] = reader.GetString(1);
            }
        }
        Assert.Equal(("UUID", "TIMESTAMP WITH TIME ZONE", "DOUBLE", "BIGINT", "BOOLEAN", "VARCHAR"),
            (duckTypes["eid"], duckTypes["occurred_at"], duckTypes["total"], duckTypes["qty"], duckTypes["paid"], duckTypes["note"]));
        command.CommandText = $"SELECT count(*), count(DISTINCT eid), sum(qty)::VARCHAR FROM read_parquet('{data}', union_by_name = true)";
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((5L, 5L, "9007199254740995"), (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), reader.GetString(2)));
        }

        // A removed Kafka source leaves the catalog (its files stay in the lake).
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/sources/kafka/{kafkaId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/iceberg/v1/namespaces/_kafka/tables/{kafkaId}"))).StatusCode);
    }

    private static string Eid(JsonElement row) => Guid.Parse(row.GetProperty("eid").GetString()!).ToString();

    /// <summary>The current snapshot's total-records of a catalog table (<c>{namespace}/tables/{name}</c>); -1 before it exists.</summary>
    private async Task<long> TotalRecordsAsync(string path)
    {
        var answer = await _silo.Http.GetAsync($"/iceberg/v1/namespaces/{path}");
        if (answer.StatusCode != HttpStatusCode.OK)
        {
            return -1;
        }
        var metadata = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("metadata");
        var current = metadata.GetProperty("current-snapshot-id").GetInt64();
        var snapshot = metadata.GetProperty("snapshots").EnumerateArray().Single(s => s.GetProperty("snapshot-id").GetInt64() == current);
        return long.Parse(snapshot.GetProperty("summary").GetProperty("total-records").GetString()!, CultureInfo.InvariantCulture);
    }
}

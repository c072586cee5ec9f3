using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Saiki.Orleans.Client;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>Events posted over REST on the shipped silo: validated against the type's schema, durable before 200.</summary>
public sealed class EventIngestionTests : IAsyncLifetime
{
    private const string Schema = """
        {"type":"object","required":["metadata","order_id","total"],
         "properties":{"order_id":{"type":"string","minLength":1},"total":{"type":"number","minimum":0},"currency":{"enum":["EUR","USD"]}}}
        """;
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync();

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    private static object Event(Guid eid, object orderId, object total, string occurredAt = "2026-11-27T10:15:00Z") =>
        new { metadata = new { eid, occurred_at = occurredAt, event_type = "order.placed" }, order_id = orderId, total };

    [Fact]
    public async Task ValidEventsAreDurableBefore200_BadOnesAreRejectedWithTheFieldNamed_RepeatsAreDuplicates()
    {
        var type = "order.placed-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.NotFound, (await _silo.Http.PostAsJsonAsync($"/event-types/{type}/events", Array.Empty<object>())).StatusCode);
        var defined = await _silo.Http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(Schema).RootElement, compatibility = "Compatible" });
        Assert.Equal(HttpStatusCode.OK, defined.StatusCode);

        var good = Enumerable.Range(0, 5).Select(i => Guid.NewGuid()).ToArray();
        var bad = await _silo.Http.PostAsJsonAsync($"/event-types/{type}/events", new[]
        {
            Event(good[0], "o-1", 10.5),
            Event(good[1], "o-2", -3),
            new { metadata = new { eid = "not-a-uuid", occurred_at = "yesterday" }, order_id = "o-3", total = 1 } as object,
        });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var results = (await bad.Content.ReadFromJsonAsync<EventResult[]>(SaikiRestClient.Json))!;
        Assert.Equal(EventOutcome.Aborted, results[0].Outcome);
        Assert.Equal(EventOutcome.Rejected, results[1].Outcome);
        Assert.Contains(results[1].Errors, e => e.StartsWith("/total:", StringComparison.Ordinal));
        Assert.Contains("/metadata/eid: required, a UUID", results[2].Errors);
        Assert.Contains("/metadata/occurred_at: required, an RFC 3339 date-time with an offset (e.g. 2026-11-27T10:15:00Z)", results[2].Errors);
        var files = new EventFiles(new LocalLakeStore(Path.Combine(_silo.Work, "lake")), new LakeLayout(""));
        Assert.Empty(await files.ReadAllAsync(files.PostedPrefix(type)));

        var ok = await _silo.Http.PostAsJsonAsync($"/event-types/{type}/events", good.Select((eid, i) => Event(eid, $"o-{i}", i * 1.5, $"2026-11-27T1{i % 2}:15:00Z")).ToArray());
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.All((await ok.Content.ReadFromJsonAsync<EventResult[]>(SaikiRestClient.Json))!, r => Assert.Equal(EventOutcome.Accepted, r.Outcome));
        // Durable when 200 came back: read straight from the lake, one file per hour of event time.
        var lines = await files.ReadAllAsync(files.PostedPrefix(type));
        Assert.Equal(good.Select(g => g.ToString()).Order(), lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("metadata").GetProperty("eid").GetString()!).Order());

        var again = await _silo.Http.PostAsJsonAsync($"/event-types/{type}/events", new[] { Event(good[0], "o-0", 0), Event(Guid.NewGuid(), "o-9", 9) });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal([EventOutcome.Duplicate, EventOutcome.Accepted], (await again.Content.ReadFromJsonAsync<EventResult[]>(SaikiRestClient.Json))!.Select(r => r.Outcome));
        Assert.Equal(6, (await files.ReadAllAsync(files.PostedPrefix(type))).Count);

        var info = await _silo.Http.GetFromJsonAsync<EventTypeInfo>($"/event-types/{type}", SaikiRestClient.Json);
        Assert.Equal((6L, 1L), (info!.Accepted, info.Duplicates));
    }

    [Fact]
    public async Task SchemaChanges_AreCheckedAgainstTheCompatibilityMode()
    {
        var type = "order.paid-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.OK, (await _silo.Http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(Schema).RootElement })).StatusCode);
        var breaking = Schema.Replace("\"total\":{\"type\":\"number\",\"minimum\":0},", "");
        var refused = await _silo.Http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(breaking).RootElement });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("incompatible with schema version 1: /total: removed", await refused.Content.ReadAsStringAsync());
        var added = Schema.Replace("\"currency\"", "\"note\":{\"type\":\"string\"},\"currency\"");
        var accepted = await _silo.Http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse(added).RootElement });
        Assert.Equal(2, (await accepted.Content.ReadFromJsonAsync<EventTypeInfo>(SaikiRestClient.Json))!.SchemaVersion);
        var notASchema = await _silo.Http.PutAsJsonAsync($"/event-types/{type}", new { schema = JsonDocument.Parse("""{"type":42}""").RootElement });
        Assert.Equal(HttpStatusCode.BadRequest, notASchema.StatusCode);
        Assert.Contains("not a valid JSON Schema", await notASchema.Content.ReadAsStringAsync());
    }
}

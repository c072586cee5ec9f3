using Saiki.Orleans.Ingestion;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>Deduplication, reordering and lateness on shuffled, duplicated, late input.</summary>
public sealed class EventCleanserTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static BusinessEvent Event(int n, double seconds) =>
        new(new Guid(n, 0, 0, new byte[8]).ToString(), T0.AddSeconds(seconds), $"{{\"n\":{n}}}");

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void ShuffledDuplicatedInput_ComesOutOnceEach_InEventTimeOrder_AndTooLateGoesAside()
    {
        var cleanser = new EventCleanser(TimeSpan.FromSeconds(10), 1000);
        var events = Enumerable.Range(1, 200).Select(n => Event(n, n)).ToList();
        // Within the lateness, disorder is repaired; release as input arrives.
        var output = new List<BusinessEvent>();
        var outcomes = new List<CleanseOutcome>();
        foreach (var batch in events.Chunk(20))
        {
            var disordered = batch.Reverse().Concat(batch.Where((_, i) => i % 5 == 0)).ToList();
            outcomes.AddRange(disordered.Select(e => cleanser.Add(e, 0, Now)));
            output.AddRange(cleanser.Release(Now).Select(r => r.Event));
        }
        // Quiet for longer than the lateness: everything waiting goes out.
        output.AddRange(cleanser.Release(Now.AddSeconds(11)).Select(r => r.Event));
        Assert.Equal(events, output);
        Assert.Equal(200, outcomes.Count(o => o == CleanseOutcome.Waiting));
        Assert.Equal(40, outcomes.Count(o => o == CleanseOutcome.Duplicate));

        // Past the watermark: late, even if new.
        Assert.Equal(CleanseOutcome.Late, cleanser.Add(Event(1000, 150), 0, Now));
        Assert.Equal(CleanseOutcome.Duplicate, cleanser.Add(Event(1000, 150), 0, Now));
        Assert.Equal(CleanseOutcome.Waiting, cleanser.Add(Event(1001, 250), 0, Now));
    }

    [Fact]
    public void AnAssignedPartitionHoldsTheWatermark_UntilItDeliversOrGoesIdle()
    {
        var cleanser = new EventCleanser(TimeSpan.FromSeconds(10), 1000);
        cleanser.Assigned(1, Now);
        cleanser.Add(Event(1, 100), 0, Now);
        Assert.Empty(cleanser.Release(Now));
        Assert.Single(cleanser.Release(Now.AddSeconds(11)));
    }

    [Fact]
    public void APartitionReadAhead_DoesNotMakeAnotherPartitionsEventsLate()
    {
        var cleanser = new EventCleanser(TimeSpan.FromSeconds(10), 1000);
        foreach (var n in Enumerable.Range(1, 100))
        {
            Assert.Equal(CleanseOutcome.Waiting, cleanser.Add(Event(n, n), 0, Now)); // partition 0 runs up to 100 s
        }
        Assert.Equal(CleanseOutcome.Waiting, cleanser.Add(Event(500, 1.5), 1, Now)); // partition 1 is still at 1.5 s
        Assert.Empty(cleanser.Release(Now));
        Assert.Equal(CleanseOutcome.Waiting, cleanser.Add(Event(501, 50), 1, Now));
        Assert.Equal(new[] { 1.0, 1.5, 2, 3 }.Concat(Enumerable.Range(4, 37).Select(x => (double)x)),
            cleanser.Release(Now).Select(r => (r.Event.OccurredAt - T0).TotalSeconds));
    }

    [Fact]
    public void AfterARestart_WrittenEventsAreDuplicates_AndWaitingOnesAreTakenAgain()
    {
        var cleanser = new EventCleanser(TimeSpan.FromSeconds(10), 1000);
        foreach (var e in Enumerable.Range(1, 30).Select(n => Event(n, n)))
        {
            cleanser.Add(e, 0, Now);
        }
        var written = cleanser.Release(Now); // up to 20 s
        Assert.Equal(20, written.Count);
        var restarted = new EventCleanser(TimeSpan.FromSeconds(10), 1000);
        restarted.Load(cleanser.SaveEids(), cleanser.WatermarkTicks);
        Assert.Equal(CleanseOutcome.Duplicate, restarted.Add(Event(5, 5), 0, Now));
        Assert.Equal(CleanseOutcome.Waiting, restarted.Add(Event(25, 25), 0, Now));
    }

    [Fact]
    public void TheWindowIsBounded_OldestIdsAreForgottenFirst()
    {
        var window = new EidWindow(3);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            Assert.True(window.Add(id));
        }
        Assert.False(window.Contains("a"));
        Assert.False(window.Add("d"));
        Assert.Equal(["b", "c", "d"], window.Save());
    }

    [Fact]
    public void CompatibleSchemas_MayOnlyAddOptionalProperties()
    {
        const string v1 = """{"type":"object","properties":{"order":{"type":"object","properties":{"id":{"type":"string"},"total":{"type":"number"}}}},"required":["order"]}""";
        Assert.Empty(SchemaCompatibilityCheck.Problems(v1, """{"type":"object","properties":{"order":{"type":"object","properties":{"id":{"type":"string"},"total":{"type":"number"},"note":{"type":"string"}}}},"required":["order"]}"""));
        Assert.Equal(["/order/total: removed"], SchemaCompatibilityCheck.Problems(v1, """{"type":"object","properties":{"order":{"type":"object","properties":{"id":{"type":"string"}}}},"required":["order"]}"""));
        Assert.Equal(["/order/id: type changes from string to integer"], SchemaCompatibilityCheck.Problems(v1, """{"type":"object","properties":{"order":{"type":"object","properties":{"id":{"type":"integer"},"total":{"type":"number"}}}},"required":["order"]}"""));
        Assert.Equal(["/order/id: becomes required"], SchemaCompatibilityCheck.Problems(v1, """{"type":"object","properties":{"order":{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"total":{"type":"number"}}}},"required":["order"]}"""));
        Assert.Equal(["/: additionalProperties becomes false"], SchemaCompatibilityCheck.Problems(v1, """{"type":"object","additionalProperties":false,"properties":{"order":{"type":"object","properties":{"id":{"type":"string"},"total":{"type":"number"}}}},"required":["order"]}"""));
    }
}

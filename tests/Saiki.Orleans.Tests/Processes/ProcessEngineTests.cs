using Saiki.Orleans.Processes;

namespace Saiki.Orleans.Tests.Processes;

/// <summary>The engine's event-time semantics, checked directly.</summary>
public sealed class ProcessEngineTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero).UtcTicks;
    private static long At(double seconds) => T0 + TimeSpan.FromSeconds(seconds).Ticks;

    private static ProcessEngine Engine(int retainClosed = 100) => new(CompiledProcess.Compile(new ProcessDefinition("p", [
        new ProcessStep("created", "s", "a.orders", "id"),
        new ProcessStep("paid", "s", "a.payments", "order_id", Deadline: new StepDeadline("created", TimeSpan.FromSeconds(10))),
        new ProcessStep("reminded", "s", "a.reminders", "order_id", Optional: true),
        new ProcessStep("shipped", "s", "a.shipments", "order_id", Deadline: new StepDeadline("paid", TimeSpan.FromSeconds(20))),
    ])), retainClosed);

    [Fact]
    public void EventsArrivingOutOfOrder_AreAppliedInEventTime_OnceTheWatermarkPasses()
    {
        var engine = Engine();
        engine.Add(new ProcessEvent(1, "1", At(3))); // the payment's table flushed first
        engine.Add(new ProcessEvent(0, "1", At(1)));
        Assert.Equal(0, engine.Started);
        Assert.Empty(engine.AdvanceWatermark(At(20)));
        Assert.Equal(1, engine.Started);
        Assert.Equal(0, engine.UnmatchedEvents);
        Assert.Equal(InstanceStatus.Open, engine.Find("1")!.Status);
    }

    [Fact]
    public void ADeadline_FiresWhenTheWatermarkPassesIt_WithoutAnyFurtherEvent_AndAStepAtTheDueTimeIsInTime()
    {
        var engine = Engine();
        engine.Add(new ProcessEvent(0, "late", At(0)));
        engine.Add(new ProcessEvent(0, "exact", At(0)));
        engine.Add(new ProcessEvent(1, "exact", At(10)));
        Assert.Empty(engine.AdvanceWatermark(At(9.999)));
        var breach = Assert.Single(engine.AdvanceWatermark(At(10)));
        Assert.Equal(("late", "paid", "created"), (breach.Key, breach.Step, breach.After));
        Assert.Equal(At(10), breach.Due.UtcTicks);
        Assert.Equal(1, engine.BreachedInstances);
    }

    [Fact]
    public void ALateEvent_IsCountedAndApplied_AndTheBreachStays()
    {
        var engine = Engine();
        engine.Add(new ProcessEvent(0, "1", At(0)));
        Assert.Single(engine.AdvanceWatermark(At(15)));
        engine.Add(new ProcessEvent(1, "1", At(12))); // arrives after the watermark passed it
        engine.Add(new ProcessEvent(3, "1", At(14)));
        Assert.Equal(2, engine.LateEvents);
        var instance = engine.Find("1")!;
        Assert.Equal(InstanceStatus.Completed, instance.Status);
        Assert.Single(instance.Breaches);
        Assert.Equal(1, engine.Completed);
        Assert.Empty(engine.AdvanceWatermark(At(100)));
    }

    [Fact]
    public void OptionalStepsNeverBreach_DuplicatesAreIgnored_EventsWithoutAnInstanceAreCounted()
    {
        var engine = Engine();
        engine.Add(new ProcessEvent(0, "1", At(0)));
        engine.Add(new ProcessEvent(0, "1", At(0.5)));
        engine.Add(new ProcessEvent(1, "1", At(1)));
        engine.Add(new ProcessEvent(1, "1", At(2)));
        engine.Add(new ProcessEvent(1, "nobody", At(2)));
        engine.Add(new ProcessEvent(3, "1", At(5)));
        Assert.Empty(engine.AdvanceWatermark(At(1000)));
        Assert.Equal((1L, 1L, 1L), (engine.Started, engine.Completed, engine.UnmatchedEvents));
        var stats = engine.Stats();
        Assert.Equal([1L, 1L, 0L, 1L], stats.Reached);
        Assert.Equal(1000, LogHistogram.Percentile(stats.CycleHistograms[1], 0.5), 1000 * 0.01);
    }

    [Fact]
    public void SavedStateRestores_OpenInstances_PendingEvents_AndArmedDeadlines()
    {
        var engine = Engine();
        engine.Add(new ProcessEvent(0, "1", At(0)));
        engine.Add(new ProcessEvent(0, "2", At(0)));
        engine.AdvanceWatermark(At(1));
        engine.Add(new ProcessEvent(1, "2", At(5)));
        var restored = Engine();
        restored.Load(engine.Save());
        Assert.Equal(1, restored.PendingCount);
        var breach = Assert.Single(restored.AdvanceWatermark(At(11)));
        Assert.Equal("1", breach.Key);
        Assert.Equal(2, restored.Started);
    }

    [Fact]
    public void CompletedInstancesAreForgottenOldestFirst_BeyondTheRetention()
    {
        var engine = Engine(retainClosed: 2);
        for (var i = 1; i <= 3; i++)
        {
            engine.Add(new ProcessEvent(0, $"{i}", At(i)));
            engine.Add(new ProcessEvent(1, $"{i}", At(i + 1)));
            engine.Add(new ProcessEvent(3, $"{i}", At(i + 2)));
        }
        engine.AdvanceWatermark(At(100));
        Assert.Null(engine.Find("1"));
        Assert.Equal(InstanceStatus.Completed, engine.Find("3")!.Status);
        Assert.Equal(3, engine.Completed);
    }
}

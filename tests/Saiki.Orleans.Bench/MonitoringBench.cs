using System.Diagnostics;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Processes;

namespace Saiki.Orleans.Bench;

/// <summary>
/// Process monitoring's own path, in process: cleansed change events (as the lake partitions hand them over) routed
/// by the process router (step match, predicates, business key, partition) into the process partitions' engines,
/// with the watermark advancing as the source's would. First opens the instances and measures the memory they take;
/// then streams a steady mix (a new order, a payment for an older one, a shipment for an older still) that keeps
/// the open count level, and reports events per second. Grain messaging and state writes are not in it.
/// </summary>
internal static class MonitoringBench
{
    public const string Help = """
          --open N        open instances to hold (default 100000)
          --events N      events to stream through them (default 2000000)
          --partitions N  process partitions (default 4)
        """;

    private static readonly string[] Required = ["bpm_events_per_s", "bpm_bytes_per_open_instance", "bpm_open_instances", "bpm_events"];

    public static int Run(string[] args)
    {
        var open = IntOption(args, "--open", 100_000);
        var total = IntOption(args, "--events", 2_000_000);
        var partitions = IntOption(args, "--partitions", 4);
        var results = new BenchResults(Required);

        var process = CompiledProcess.Compile(new ProcessDefinition("o2c", [
            new ProcessStep("created", "shop", "public.orders", "id", Where: [new FieldPredicate("status", "eq", "new")]),
            new ProcessStep("paid", "shop", "public.payments", "order_id", Deadline: new StepDeadline("created", TimeSpan.FromMinutes(30))),
            new ProcessStep("shipped", "shop", "public.shipments", "order_id", Deadline: new StepDeadline("paid", TimeSpan.FromHours(48))),
        ], partitions));
        var router = new ProcessRouter([process]);
        var engines = Enumerable.Range(0, partitions).ToDictionary(p => CompiledProcess.PartitionKey("o2c", p), _ => new ProcessEngine(process));
        var orders = new Table("public.orders", ["id", "status", "total"]);
        var payments = new Table("public.payments", ["id", "order_id", "amount"]);
        var shipments = new Table("public.shipments", ["id", "order_id", "carrier"]);
        var t0 = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);
        long sequence = 0;
        ChangeEvent Insert(params string?[] row) => new(ChangeOperation.Insert, new Position((ulong)++sequence, 0), t0.AddMilliseconds(sequence), null, row);

        void Feed(Table table, List<(TableSchema, ChangeEvent)> run)
        {
            foreach (var (key, events) in router.Route(table.Address, run))
            {
                var engine = engines[key];
                foreach (var e in events)
                {
                    engine.Add(e);
                }
            }
        }
        void Advance()
        {
            foreach (var engine in engines.Values)
            {
                engine.AdvanceWatermark(t0.AddMilliseconds(sequence).UtcTicks);
            }
        }

        // 1. Open instances; memory per open instance.
        const int RUN = 1000;
        var before = Memory();
        for (var id = 1; id <= open; id += RUN)
        {
            Feed(orders, Enumerable.Range(id, Math.Min(RUN, open - id + 1)).Select(i => (orders.Schema, Insert($"{i}", "new", "10.00"))).ToList());
        }
        Advance();
        var openNow = engines.Values.Sum(e => e.OpenCount);
        var bytes = (Memory() - before) / (double)openNow;
        results.Set("bpm_open_instances", openNow, "F0");
        results.Set("bpm_bytes_per_open_instance", bytes, "F0");
        Log.Info($"{openNow:N0} open instances take {bytes:F0} bytes each");

        // 2. Steady stream: per round a run of new orders, payments for older orders, shipments for older still.
        var clock = Stopwatch.StartNew();
        var streamed = 0L;
        var next = open + 1;
        var paidUpTo = 0;
        var shippedUpTo = 0;
        var progress = Stopwatch.StartNew();
        while (streamed < total)
        {
            Feed(orders, Enumerable.Range(next, RUN).Select(i => (orders.Schema, Insert($"{i}", "new", "10.00"))).ToList());
            Feed(payments, Enumerable.Range(paidUpTo + 1, RUN).Select(i => (payments.Schema, Insert($"p{i}", $"{i}", "10.00"))).ToList());
            if (paidUpTo - shippedUpTo > open / 2)
            {
                Feed(shipments, Enumerable.Range(shippedUpTo + 1, RUN).Select(i => (shipments.Schema, Insert($"s{i}", $"{i}", "dhl"))).ToList());
                shippedUpTo += RUN;
                streamed += RUN;
            }
            next += RUN;
            paidUpTo += RUN;
            streamed += 2 * RUN;
            Advance();
            if (progress.Elapsed > TimeSpan.FromSeconds(2))
            {
                Log.Info($"{streamed:N0}/{total:N0} events, {streamed / clock.Elapsed.TotalSeconds:N0} events/s, {engines.Values.Sum(e => e.OpenCount):N0} open");
                progress.Restart();
            }
        }
        var rate = streamed / clock.Elapsed.TotalSeconds;
        results.Set("bpm_events", streamed, "F0");
        results.Set("bpm_events_per_s", rate, "F0");
        var started = engines.Values.Sum(e => e.Started);
        var completed = engines.Values.Sum(e => e.Completed);
        if (started != next - 1 || completed != shippedUpTo)
        {
            results.Fail("monitoring", $"engine counts are off: started {started} of {next - 1}, completed {completed} of {shippedUpTo}");
        }
        results.Print(Console.Out);
        return results.Failed ? 1 : 0;
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    internal static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) && v > 0 ? v : fallback;
    }

    private sealed class Table(string name, string[] columns)
    {
        public TableSchema Schema { get; } = new(name, columns.Select(c => new ColumnSchema(c, "text")).ToArray(), [0]);
        public PartitionAddress Address { get; } = new("shop", name, 0);
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Saiki.Orleans.Bench;

/// <summary>
/// <c>bench downstream</c>: what Saiki does after capture, measured in process against the plainest client code
/// that moves the same bytes, in the same run: lake materialization (encode a file, put it, write its manifest
/// entry) against a loop of S3 PutObject of the already-encoded files, and the Kafka event bus (the publisher,
/// one file-sized batch at a time) against a plain producer loop of the already-encoded messages. The changes are
/// synthetic (<see cref="SyntheticOrders"/>): capture has its own benchmark, <c>bench postgres</c>.
/// </summary>
internal sealed class DownstreamBench
{
    private readonly DownstreamOptions _options;
    private readonly BenchResults _results;
    private readonly CancellationToken _ct;

    private DownstreamBench(DownstreamOptions options, CancellationToken ct)
    {
        _options = options;
        _ct = ct;
        var required = new List<string>();
        if (options.Parts.Contains("s3"))
        {
            required.AddRange(["s3_rows_per_s", "s3_mb_per_s", "putobject_mb_per_s", "s3_ratio_vs_putobject"]);
        }
        if (options.Parts.Contains("kafka"))
        {
            required.AddRange(["kafka_rows_per_s", "producer_rows_per_s", "kafka_ratio_vs_producer"]);
        }
        _results = new BenchResults(required);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine($"usage: Saiki.Orleans.Bench downstream [options]{Environment.NewLine}{DownstreamOptions.Help}");
            return 0;
        }
        var (options, error) = DownstreamOptions.Parse(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync($"bench downstream: {error}{Environment.NewLine}options:{Environment.NewLine}{DownstreamOptions.Help}");
            return 2;
        }
        using var stop = new CancellationTokenSource();
        using var interrupt = Signals.CancelOnInterrupt(stop);
        var bench = new DownstreamBench(options, stop.Token);
        var clock = Stopwatch.StartNew();
        Log.Info($"bench downstream: parts {string.Join(",", options.Parts)}; {options.Partitions} partitions, {options.FileRows:N0} changes per file, best of {options.Repeat}");
        if (options.Parts.Contains("s3"))
        {
            await bench.Part("s3", () => new DownstreamS3(options, bench._results, stop.Token).RunAsync());
        }
        if (options.Parts.Contains("kafka"))
        {
            await bench.Part("kafka", () => new DownstreamKafka(options, bench._results, stop.Token).RunAsync());
        }
        bench._results.Set("bench_seconds", clock.Elapsed.TotalSeconds, "F0");
        bench._results.Print(Console.Out);
        return bench._results.Failed ? 1 : 0;
    }

    /// <summary>Runs one part; a failure is reported and the next part still runs.</summary>
    private async Task Part(string name, Func<Task> part)
    {
        if (_ct.IsCancellationRequested)
        {
            return;
        }
        Log.Info($"----- {name} -----");
        try
        {
            await part();
        }
        catch (OperationCanceledException) when (_ct.IsCancellationRequested)
        {
            _results.Fail(name, "interrupted");
        }
        catch (Exception e)
        {
            _results.Fail(name, e is AggregateException { InnerExceptions: [var inner] } ? inner.Message : e.Message);
        }
        // What one part allocated (hundreds of MB of changes and encoded bytes) should not be collected during the next.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>
    /// Runs one measured attempt with the per-measurement time limit; a failed attempt is reported (an <c>error=</c>
    /// line) and gives no value, and the other attempts still count. Garbage left by the previous attempt is
    /// collected first, so that each attempt pays only for its own allocations.
    /// </summary>
    internal static async Task<(bool Ok, T Value)> AttemptAsync<T>(string what, TimeSpan timeout, BenchResults results, CancellationToken ct, Func<CancellationToken, Task<T>> run)
    {
        ct.ThrowIfCancellationRequested();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            return (true, await run(limit.Token));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            results.Fail(what, $"did not finish within {timeout.TotalSeconds:F0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            results.Fail(what, e.Message);
        }
        return (false, default!);
    }

    /// <summary>The shortest time of the attempts that succeeded; NaN (printed NA) when none did.</summary>
    internal static double Best(IReadOnlyCollection<double> seconds) => seconds.Count > 0 ? seconds.Min() : double.NaN;
}

using System.Diagnostics;
using System.Globalization;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Client;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Silo.Hosting;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Silo.Demo;

/// <summary>
/// The main job on its embedded default: a local silo capturing the demo "orders" workload from PostgreSQL into
/// the local lake directory, with the dashboard on localhost and a progress line on the console.
/// </summary>
internal static class DemoJob
{
    private const string SourceId = "demo";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = DemoArguments.Parse(args);
        if (options.Error is { } error)
        {
            await Console.Error.WriteLineAsync(error);
            return 2;
        }
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        if (options.Duration is { } d)
        {
            stop.CancelAfter(d);
        }

        var app = SaikiHost.Build(options.HostArguments);
        await app.StartAsync();
        var client = app.Services.GetRequiredService<SaikiClient>();
        var spec = new PostgresSourceSpec(SourceId, options.ConnectionString!, DemoWorkload.Tables, 4);
        // Watched on the dashboard: an order is paid within 30 s of its creation, unless it is deleted first.
        var demoProcess = new ProcessDefinition("order-to-payment", [
            new ProcessStep("created", SourceId, "shop.orders", "id"),
            new ProcessStep("paid", SourceId, "shop.payments", "order_id", Deadline: new StepDeadline("created", TimeSpan.FromSeconds(30)), Terminal: true),
            new ProcessStep("deleted", SourceId, "shop.orders", "id", ["delete"], Terminal: true),
        ]);
        var existing = await client.GetSourceAsync(SourceId);
        if (existing is { State: SourceState.Failed })
        {
            // e.g. the throwaway PostgreSQL was recreated under the demo's saved state: start over.
            Console.WriteLine($"Saiki demo: previous demo source failed ({existing.Error}); registering it again.");
            await client.RemoveSourceAsync(SourceId);
            existing = null;
        }
        if (existing is null)
        {
            // A fresh start: the demo owns its schema, slot and publication.
            await DemoWorkload.ResetSchemaAsync(spec.ConnectionString, stop.Token);
            await PostgresSourceAdmin.DropPublicationAndSlotAsync(spec, stop.Token);
            await client.RegisterPostgresSourceAsync(spec);
        }
        if (await client.GetProcessAsync(demoProcess.Name) is null)
        {
            await client.RegisterProcessAsync(demoProcess);
        }
        var urls = string.Join(", ", app.Urls);
        Console.WriteLine($"Saiki demo: capturing {string.Join(", ", DemoWorkload.Tables)} into {Path.GetFullPath(options.LakeDirectory)}; dashboard at {urls}; Ctrl+C stops.");

        long generated = 0;
        var workload = DemoWorkload.RunAsync(spec.ConnectionString, options.Rate, n => Interlocked.Exchange(ref generated, n), stop.Token);
        var clock = Stopwatch.StartNew();
        var first = await client.GetSourceAsync(SourceId);
        var startDurable = first?.ChangesDurable ?? 0;
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    var info = await client.GetSourceAsync(SourceId);
                    if (info is not null)
                    {
                        ProgressLine.Write(clock.Elapsed, Interlocked.Read(ref generated), info, (info.ChangesDurable - startDurable) / clock.Elapsed.TotalSeconds);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        var made = await workload;
        // Let the last files land before reporting.
        var deadline = Stopwatch.StartNew();
        SourceInfo? final = null;
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            final = await client.GetSourceAsync(SourceId);
            if (final is null || final.ChangesDurable - startDurable >= made)
            {
                break;
            }
            await Task.Delay(250);
        }
        Console.WriteLine();
        if (final is not null)
        {
            var durable = final.ChangesDurable - startDurable;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"generated {made:N0} changes, {durable:N0} durable in {final.FilesWritten:N0} files; {durable / clock.Elapsed.TotalSeconds:N0} changes/s end to end"));
        }
        await app.StopAsync();
        return 0;
    }
}

/// <summary>Command-line arguments of the demo; the rest go to the host (e.g. <c>--urls</c>, <c>--Saiki:Lake:Directory</c>).</summary>
internal sealed record DemoArguments(string? ConnectionString, int Rate, TimeSpan? Duration, string LakeDirectory, string[] HostArguments, string? Error)
{
    public static DemoArguments Parse(string[] args)
    {
        string? connection = Environment.GetEnvironmentVariable("SAIKI_PG_CONNECTION");
        var rate = 2000;
        TimeSpan? duration = null;
        var lake = ".lake";
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--pg": connection = Next(); break;
                    case "--rate": rate = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--duration": duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--lake": lake = Next(); rest.Add($"--Saiki:Lake:Directory={lake}"); break;
                    default: rest.Add(args[i]); break;
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                return new DemoArguments(null, 0, null, lake, [], $"demo: {e.Message} (usage: demo [--pg CONNECTION] [--rate CHANGES_PER_S] [--duration SECONDS] [--lake DIR])");
            }
        }
        if (string.IsNullOrWhiteSpace(connection))
        {
            return new DemoArguments(null, 0, null, lake, [], "demo: no PostgreSQL given: set SAIKI_PG_CONNECTION or pass --pg (scripts/demo.sh starts one for you)");
        }
        if (rate is < 1 or > 1_000_000)
        {
            return new DemoArguments(null, 0, null, lake, [], $"demo: --rate {rate} must be between 1 and 1000000");
        }
        return new DemoArguments(connection, rate, duration, lake, rest.ToArray(), null);
    }
}

/// <summary>One status line, rewritten in place on a terminal and printed every 5 s otherwise.</summary>
internal static class ProgressLine
{
    private static int _count;

    public static void Write(TimeSpan elapsed, long generated, SourceInfo info, double durableRate)
    {
        var lag = info.LagBytes is { } b ? $"{b / 1024.0:N1} KiB" : "?";
        var line = string.Create(CultureInfo.InvariantCulture,
            $"[{elapsed:hh\\:mm\\:ss}] generated {generated:N0} | captured {info.ChangesCaptured:N0} | durable {info.ChangesDurable:N0} ({durableRate:N0}/s) | files {info.FilesWritten:N0} | lag {lag} | {info.State}");
        if (!Console.IsOutputRedirected)
        {
            Console.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 150)));
        }
        else if (_count++ % 5 == 0)
        {
            Console.WriteLine(line);
        }
    }
}

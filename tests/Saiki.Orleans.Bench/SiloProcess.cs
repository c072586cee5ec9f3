using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The shipped silo as a child process on loopback, with its lake and grain state in the benchmark's directory.
/// A separate process so that its memory is its own; restarting it with the same directories keeps the sources,
/// because grain state lives in files there.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(45);
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly string _logPath;
    private long _peakRssKb;

    private SiloProcess(Process process, StreamWriter log, string logPath, Uri url)
    {
        _process = process;
        _log = log;
        _logPath = logPath;
        Http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        Api = new SaikiApi(Http);
    }

    public HttpClient Http { get; }

    public SaikiApi Api { get; }

    /// <summary>Peak resident set (VmHWM) of this process, in MiB, as last read; it is read at every progress sample and before stopping.</summary>
    public double PeakRssMb => Interlocked.Read(ref _peakRssKb) / 1024.0;

    /// <summary>Starts the silo and waits until its REST API answers.</summary>
    public static async Task<SiloProcess> StartAsync(string siloDll, string workDirectory, CancellationToken ct, params string[] settings)
    {
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The runtime setting the Helm chart's ConfigMap and scripts/demo.sh give the silo (see src/Silo/Silo.csproj).
            Environment = { ["DOTNET_TC_CallCountingDelayMs"] = "0" },
        };
        foreach (var arg in new[]
                 {
                     siloDll, $"--urls={url.ToString().TrimEnd('/')}",
                     $"--Saiki:Silo:SiloPort={FreePort()}", $"--Saiki:Silo:GatewayPort={FreePort()}",
                     $"--Saiki:Lake:Directory={Path.Combine(workDirectory, "lake")}",
                     // The lake's default format, Iceberg; every snapshot stays in the metadata, so commit-to-visible is measured on all of them.
                     "--Saiki:Lake:Iceberg:SnapshotsKept=100000",
                     $"--Saiki:State:Directory={Path.Combine(workDirectory, "state")}",
                 }.Concat(settings))
        {
            start.ArgumentList.Add(arg);
        }
        var logPath = Path.Combine(workDirectory, "silo.log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        await log.WriteLineAsync($"===== silo starting on {url} =====");
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLog(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLog(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var silo = new SiloProcess(process, log, logPath, url);
        try
        {
            await silo.WaitUntilServingAsync(ct);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        return silo;
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private async Task WaitUntilServingAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the silo exited with code {_process.ExitCode} during start-up; {LogTail()}");
            }
            if (clock.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"the silo's REST API did not answer within {StartTimeout.TotalSeconds:F0} s; {LogTail()}");
            }
            try
            {
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var response = await Http.GetAsync("/api/sources", probe.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or Orleans not started yet.
            }
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Current resident set in MiB (and records the peak).</summary>
    public double SampleRssMb()
    {
        var (rss, hwm) = ReadStatus();
        if (hwm > Interlocked.Read(ref _peakRssKb))
        {
            Interlocked.Exchange(ref _peakRssKb, hwm);
        }
        return rss / 1024.0;
    }

    private (long RssKb, long HwmKb) ReadStatus()
    {
        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kilobytes(line);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The process is gone; the peak read before stays.
        }
        return (rss, hwm);
    }

    private static long Kilobytes(string statusLine) =>
        long.Parse(statusLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>Graceful stop (SIGTERM: Orleans deactivates grains and writes their state), SIGKILL after a grace period.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        SampleRssMb();
        var clock = Stopwatch.StartNew();
        var graceful = await Signals.StopAsync(_process, Signals.SIGTERM, StopGrace);
        Log.Info(graceful
            ? $"silo stopped in {clock.Elapsed.TotalSeconds:F1} s (peak RSS {PeakRssMb:F0} MiB)"
            : $"silo ignored SIGTERM for {StopGrace.TotalSeconds:F0} s and was killed (peak RSS {PeakRssMb:F0} MiB)");
    }

    /// <summary>The last lines of the silo's log, for error messages.</summary>
    public string LogTail(int lines = 15)
    {
        try
        {
            lock (_log)
            {
                _log.Flush();
            }
            using var reader = new StreamReader(new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var tail = new Queue<string>();
            while (reader.ReadLine() is { } line)
            {
                tail.Enqueue(line);
                if (tail.Count > lines)
                {
                    tail.Dequeue();
                }
            }
            return $"last lines of {_logPath}:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
        }
        catch (IOException e)
        {
            return $"silo log {_logPath} unreadable: {e.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

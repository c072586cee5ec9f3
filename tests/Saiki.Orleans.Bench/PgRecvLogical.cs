using System.Diagnostics;
using System.Text;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The baseline: PostgreSQL's own logical replication client writing the pgoutput stream to a file. It runs without
/// --endpos, which is unreliable for large transactions (it can exit on a keepalive before the transaction was
/// sent); instead the benchmark watches the slot's confirmed_flush_lsn and stops the client itself.
/// </summary>
internal sealed class PgRecvLogical(string pgBin, BenchDatabase db, string outputFile) : IAsyncDisposable
{
    private readonly StringBuilder _stderr = new();
    private Process? _process;

    /// <summary>Creates the pgoutput slot; it must exist before the workload so that it sees every change.</summary>
    public async Task CreateSlotAsync(CancellationToken ct)
    {
        using var process = Start("--create-slot", "--plugin=pgoutput");
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_recvlogical --create-slot exited with {process.ExitCode}: {Stderr()}");
        }
    }

    /// <summary>
    /// Streams from the slot into the output file until the slot has confirmed <paramref name="targetLsn"/>, then
    /// stops the client. Returns the seconds from starting the client to the confirmation, and to the walsender
    /// having sent everything (the confirmation trails the data by up to pg_recvlogical's 1 s status interval).
    /// </summary>
    public async Task<(double Confirmed, double Sent)> StreamUntilAsync(string targetLsn, TimeSpan timeout, CancellationToken ct)
    {
        await using var conn = await db.OpenAsync(ct);
        var clock = Stopwatch.StartNew();
        // -F 1 -s 1: fsync and report the flushed position every second, so the confirmation trails by about a second.
        _process = Start("--start", "--no-loop", "-o", "proto_version=1", "-o", $"publication_names={BenchDatabase.RecvPublication}",
            "-f", outputFile, "-F", "1", "-s", "1");
        var lastPrint = TimeSpan.Zero;
        TimeSpan? sent = null;
        while (true)
        {
            var (confirmed, reached, allSent) = await BenchDatabase.SlotProgressAsync(conn, BenchDatabase.RecvSlot, targetLsn, ct);
            if (allSent && sent is null)
            {
                sent = clock.Elapsed;
            }
            if (reached)
            {
                var seconds = clock.Elapsed.TotalSeconds;
                await StopAsync();
                Log.Info($"pg_recvlogical: slot confirmed {confirmed} ≥ {targetLsn} after {seconds:F2} s (walsender had sent it all after {sent?.TotalSeconds ?? seconds:F2} s); {OutputBytes() / 1048576.0:F1} MiB written");
                return (seconds, sent?.TotalSeconds ?? seconds);
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pg_recvlogical exited with {_process.ExitCode} before confirming {targetLsn}: {Stderr()}");
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"pg_recvlogical had not confirmed {targetLsn} after {timeout.TotalSeconds:F0} s (confirmed {confirmed ?? "nothing"})");
            }
            if (clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(1))
            {
                lastPrint = clock.Elapsed;
                Log.Info($"pg_recvlogical: {clock.Elapsed.TotalSeconds:F0} s, {OutputBytes() / 1048576.0:F1} MiB written, slot confirmed {confirmed}, waiting for {targetLsn}");
            }
            await Task.Delay(50, ct);
        }
    }

    /// <summary>SIGINT lets pg_recvlogical flush and send a last status update; it is killed if it does not exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await Signals.StopAsync(process, Signals.SIGINT, TimeSpan.FromSeconds(10));
            process.Dispose();
        }
    }

    private long OutputBytes() => File.Exists(outputFile) ? new FileInfo(outputFile).Length : 0;

    private Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(pgBin, "pg_recvlogical"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-d");
        start.ArgumentList.Add(db.LibpqConnInfo());
        start.ArgumentList.Add($"--slot={BenchDatabase.RecvSlot}");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        if (db.Password is { Length: > 0 } password)
        {
            start.Environment["PGPASSWORD"] = password;
        }
        var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_stderr)
            {
                _stderr.AppendLine(line);
            }
        }
    }

    private string Stderr()
    {
        lock (_stderr)
        {
            return _stderr.Length == 0 ? "(no output)" : _stderr.ToString().Trim();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

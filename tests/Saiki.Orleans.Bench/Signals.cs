using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Saiki.Orleans.Bench;

/// <summary>
/// POSIX signals for child processes. Process.Kill only sends SIGKILL, which would skip the silo's graceful
/// shutdown (state written, replication confirmed) and pg_recvlogical's final flush.
/// </summary>
internal static partial class Signals
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/>; false when the process is already gone.</summary>
    public static bool Send(Process process, int signal)
    {
        try
        {
            return !process.HasExited && Kill(process.Id, signal) == 0;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Asks politely, then kills the process itself (not its tree) if it is still there after <paramref name="grace"/>.</summary>
    public static async Task<bool> StopAsync(Process process, int signal, TimeSpan grace)
    {
        if (!Send(process, signal))
        {
            return true;
        }
        using var wait = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync(CancellationToken.None);
            return false;
        }
    }

    /// <summary>
    /// Cancels <paramref name="stop"/> on the first Ctrl+C or SIGTERM, so a run still cleans up after itself; a second
    /// signal ends the process. Dispose the result to stop listening.
    /// </summary>
    public static IDisposable CancelOnInterrupt(CancellationTokenSource stop)
    {
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        }
        return new Registrations(
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
    }

    private sealed class Registrations(params IDisposable[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in registrations)
            {
                r.Dispose();
            }
        }
    }
}

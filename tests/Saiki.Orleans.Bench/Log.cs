using System.Diagnostics;

namespace Saiki.Orleans.Bench;

/// <summary>Progress for people, on stderr, stamped with the time since the benchmark started.</summary>
internal static class Log
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Info(string message) => Console.Error.WriteLine($"[{Clock.Elapsed:mm\\:ss\\.f}] {message}");

    public static void Error(string message) => Info("ERROR " + message);
}

using System.Diagnostics;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>Polls an observation of real components until it holds or a deadline passes; returns the last observation.</summary>
public static class Eventually
{
    public static async Task<T> MatchAsync<T>(Func<Task<T>> observe, Func<T, bool> holds, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await observe();
            if (holds(value) || clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                return value;
            }
            await Task.Delay(250);
        }
    }
}

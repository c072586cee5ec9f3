using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// Polls an observation of real components until it holds or a deadline passes; returns the last observation.
/// An observation that throws (a service answering an error mid-change, e.g. s3rver listing a directory that a
/// concurrent write renames) is retried; if the last one before the deadline threw, that exception surfaces.
/// </summary>
public static class Eventually
{
    public static async Task<T> MatchAsync<T>(Func<Task<T>> observe, Func<T, bool> holds, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var expired = clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60));
            try
            {
                var value = await observe();
                if (holds(value) || expired)
                {
                    return value;
                }
            }
            catch (Exception e) when (!expired && e is not Xunit.Sdk.XunitException)
            {
                // Observed again below.
            }
            catch (Exception e) when (expired)
            {
                ExceptionDispatchInfo.Capture(e).Throw();
            }
            await Task.Delay(250);
        }
    }
}

namespace Saiki.Orleans.Capture;

/// <summary>
/// Runs a source's capture, one run at a time, while the source should capture. A run that fails is retried with
/// exponential back-off (250 ms doubling up to 30 s); a cancelled run (stop, a partition's resync request, a
/// stalled checkpoint) is followed at once by the next, which starts again from the checkpoint. The owning grain
/// says what a run does and records failures; all calls come from the grain's scheduler, so no locks are needed.
/// </summary>
/// <param name="shouldRun">Whether the source should be capturing (checked before every run).</param>
/// <param name="run">One capture run; it ends by cancellation, by an exception, or when the source failed.</param>
/// <param name="failed">Records a failed run; true to wait the given back-off before the next one.</param>
public sealed class CaptureLoop(Func<bool> shouldRun, Func<CancellationToken, Task> run, Func<Exception, TimeSpan, bool> failed)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private CancellationTokenSource? _run;
    private Task _loop = Task.CompletedTask;
    private bool _stopping;

    /// <summary>True while a run is going and not yet asked to end.</summary>
    public bool IsRunning => _run is { IsCancellationRequested: false };

    /// <summary>Starts the loop if the source should capture and it is not running.</summary>
    public void StartIfNeeded()
    {
        if (shouldRun() && _loop.IsCompleted)
        {
            _stopping = false;
            _loop = RunAsync();
        }
    }

    /// <summary>Ends the current run and the loop, and waits for both.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        if (_run is { } current)
        {
            await current.CancelAsync();
        }
        await _loop;
    }

    /// <summary>Cancels the current run, so the next starts from the checkpoint; false when none is going.</summary>
    public bool Restart()
    {
        if (_run is not { IsCancellationRequested: false } current)
        {
            return false;
        }
        current.Cancel();
        return true;
    }

    private async Task RunAsync()
    {
        var backoff = FirstBackoff;
        while (shouldRun() && !_stopping)
        {
            using var current = new CancellationTokenSource();
            _run = current;
            try
            {
                await run(current.Token);
            }
            catch (OperationCanceledException) when (current.IsCancellationRequested)
            {
                // Stop or restart requested; the loop condition tells which.
                backoff = FirstBackoff;
            }
            catch (Exception e)
            {
                if (failed(e, backoff))
                {
                    try
                    {
                        await Task.Delay(backoff, current.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
            finally
            {
                _run = null;
            }
        }
    }
}

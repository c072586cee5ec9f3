using Saiki.Orleans.Capture;

namespace Saiki.Orleans.Sources;

/// <summary>The persisted life-cycle state of a capturing source, which pausing and resuming change.</summary>
public interface ISourceLifecycle
{
    /// <summary>Where the source is in its life cycle.</summary>
    SourceState State { get; set; }

    /// <summary>A registration is held and the source has not been removed.</summary>
    bool Registered { get; }
}

/// <summary>
/// Pausing, resuming and removing a capturing source, whatever its database: the rules (a failed source cannot be
/// paused, only a paused one resumed) and the order of steps that keeps supervision from restarting a loop that is
/// being stopped.
/// </summary>
internal static class SourcePause
{
    /// <summary>Pauses; false when the source was paused already.</summary>
    /// <param name="source">The source's persisted state.</param>
    /// <param name="id">The source id, for messages.</param>
    /// <param name="stopLoop">Stops the capture loop and waits for it.</param>
    /// <param name="save">Writes the persisted state.</param>
    public static async Task<bool> PauseAsync(ISourceLifecycle source, string id, Func<Task> stopLoop, Func<Task> save)
    {
        EnsureRegistered(source, id);
        if (source.State == SourceState.Failed)
        {
            throw new SourceValidationException($"source '{id}' has failed and is not capturing; see its error (remove and re-register it, or re-snapshot a DynamoDB source)");
        }
        if (source.State == SourceState.Paused)
        {
            return false;
        }
        await StopHoldingAsync(source, SourceState.Paused, stopLoop);
        await save();
        return true;
    }

    /// <summary>
    /// Stops capture for good and releases what the source holds. The source is marked removed first, so supervision
    /// (which restarts every source that should capture) cannot start the loop again while the slot is dropped; if
    /// releasing fails, the state it had comes back and capture goes on.
    /// </summary>
    public static async Task StopForRemovalAsync(ISourceLifecycle source, Func<Task> stopLoop, Func<Task> release, CaptureLoop loop)
    {
        var before = source.State;
        try
        {
            await StopHoldingAsync(source, SourceState.Removed, stopLoop);
            await release();
        }
        catch
        {
            source.State = before;
            loop.StartIfNeeded();
            throw;
        }
    }

    /// <summary>
    /// Stops the capture loop with the source held in <paramref name="held"/>, a state supervision does not restart:
    /// set before the loop stops, so supervision cannot start it again meanwhile, and again after, in case the run
    /// marked itself running before it saw the cancellation.
    /// </summary>
    private static async Task StopHoldingAsync(ISourceLifecycle source, SourceState held, Func<Task> stopLoop)
    {
        source.State = held;
        await stopLoop();
        source.State = held;
    }

    /// <summary>Resumes a paused source: it is starting again once the state is saved, and the loop runs.</summary>
    public static async Task ResumeAsync(ISourceLifecycle source, string id, Func<Task> save, CaptureLoop loop)
    {
        EnsureRegistered(source, id);
        if (source.State != SourceState.Paused)
        {
            throw new SourceValidationException($"source '{id}' is not paused (it is {source.State})");
        }
        source.State = SourceState.Starting;
        await save();
        loop.StartIfNeeded();
    }

    private static void EnsureRegistered(ISourceLifecycle source, string id)
    {
        if (!source.Registered)
        {
            throw new SourceValidationException($"no source '{id}' is registered");
        }
    }
}

using Orleans.Runtime;

namespace Saiki.Orleans.Storage;

/// <summary>
/// Serializes a reentrant grain's writes of its persistent state. Turns of a reentrant grain interleave at every
/// await, so a timer's write and an operation's write (or clear) could otherwise run at once on the same ETag:
/// one of them fails with <see cref="InconsistentStateException"/>, or a clear is undone by a write finishing after
/// it. Each write or clear starts when the one before it has ended and stores the state as it is then.
/// </summary>
public sealed class SerialStateWriter<T>(IPersistentState<T> state)
{
    private Task _last = Task.CompletedTask;

    /// <summary>Writes the state after every write or clear asked for before.</summary>
    public Task WriteAsync() => After(state.WriteStateAsync);

    /// <summary>Clears the state after every write or clear asked for before.</summary>
    public Task ClearAsync() => After(state.ClearStateAsync);

    private Task After(Func<Task> operation) => _last = RunAfterAsync(_last, operation);

    private static async Task RunAfterAsync(Task previous, Func<Task> operation)
    {
        try
        {
            await previous;
        }
        catch (Exception)
        {
            // That write's caller saw its failure; this one still runs.
        }
        await operation();
    }
}

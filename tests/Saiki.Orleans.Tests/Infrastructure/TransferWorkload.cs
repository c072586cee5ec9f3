namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// A steady stream of money transfers between <c>{schema}.accounts</c> rows, one transaction each: two balance
/// updates (each bumping the row's <c>version</c>, so the number of updates can be checked later) and an insert
/// into <c>{schema}.transfers</c>; optionally every n-th transaction deletes an older transfer.
/// </summary>
public sealed class TransferWorkload : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private int _transactions;

    public TransferWorkload(TestDatabase db, string schema, int accounts, int seed, TimeSpan pause, int deleteEvery = 0)
    {
        _run = Task.Run(async () =>
        {
            var random = new Random(seed);
            for (var id = 1L; !_stop.IsCancellationRequested; id++)
            {
                int a = random.Next(1, accounts + 1), b = random.Next(1, accounts + 1), amount = random.Next(1, 20);
                await db.ExecuteAsync($"""
                    BEGIN;
                    UPDATE {schema}.accounts SET balance = balance - {amount}, version = version + 1 WHERE id = {a};
                    UPDATE {schema}.accounts SET balance = balance + {amount}, version = version + 1 WHERE id = {b};
                    INSERT INTO {schema}.transfers VALUES ({id}, {a}, {b}, {amount});
                    {(deleteEvery > 0 && id % deleteEvery == 0 ? $"DELETE FROM {schema}.transfers WHERE id = {id - 10};" : "")}
                    COMMIT;
                    """);
                Interlocked.Increment(ref _transactions);
                await Task.Delay(pause);
            }
        });
    }

    /// <summary>Transactions committed so far.</summary>
    public int Transactions => Volatile.Read(ref _transactions);

    /// <summary>Waits until <paramref name="more"/> further transactions have committed.</summary>
    public Task AdvanceAsync(int more)
    {
        var target = Transactions + more;
        return Eventually.MatchAsync(() => Task.FromResult(Transactions), n => n > target);
    }

    /// <summary>Stops after the transaction in progress; surfaces any failure of the workload.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _run;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }
        _stop.Dispose();
    }
}

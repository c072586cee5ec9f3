using Saiki.Orleans.Capture;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Tests.Capture;

public sealed class CheckpointTrackerTests
{
    [Fact]
    public void Transaction_IsConfirmable_OnlyWhenEveryPartitionItTouchedIsDurable()
    {
        var t = new CheckpointTracker();
        t.Emitted("p0", new Position(100, 0));
        t.Emitted("p1", new Position(100, 1));
        Assert.False(t.Committed(110));
        Assert.False(Ack(t, "p0", new Position(100, 0)));
        Assert.Equal(0ul, t.Confirmable);
        Assert.True(Ack(t, "p1", new Position(100, 1)));
        Assert.Equal(110ul, t.Confirmable);
        Assert.Equal(0, t.PendingEvents);
    }

    [Fact]
    public void Transactions_ConfirmInCommitOrder_EvenWhenALaterOneIsDurableFirst()
    {
        var t = new CheckpointTracker();
        t.Emitted("p0", new Position(100, 0));
        t.Committed(110);
        t.Emitted("p1", new Position(200, 0));
        t.Committed(210);
        Assert.False(Ack(t, "p1", new Position(200, 0)));
        Assert.Equal(0ul, t.Confirmable);
        Assert.True(Ack(t, "p0", new Position(100, 0)));
        Assert.Equal(210ul, t.Confirmable);
    }

    [Fact]
    public void PartialAcknowledgement_DoesNotConfirmTheRestOfTheTransaction()
    {
        var t = new CheckpointTracker();
        t.Emitted("p0", new Position(100, 0));
        t.Emitted("p0", new Position(100, 5));
        t.Committed(110);
        Assert.False(Ack(t, "p0", new Position(100, 4)));
        Assert.True(Ack(t, "p0", new Position(100, 5)));
    }

    [Fact]
    public void AfterARestart_ReplayedTransactionsAlreadyDurable_NeedNoNewAcknowledgement()
    {
        var t = new CheckpointTracker();
        t.Emitted("p0", new Position(100, 0));
        t.Committed(110);
        t.Emitted("p1", new Position(150, 0));
        t.Committed(160);
        t.Emitted("p0", new Position(200, 0));
        t.Committed(210);
        Assert.True(Ack(t, "p0", new Position(200, 0)));
        Assert.Equal(110ul, t.Confirmable);

        // p1's batch was lost: capture restarts from 110 and emits the rest again.
        t.Restarted(1);
        Assert.Equal(0, t.PendingEvents);
        t.Emitted("p1", new Position(150, 0));
        Assert.False(t.Committed(160));
        t.Emitted("p0", new Position(200, 0));
        Assert.False(t.Committed(210));
        Assert.True(Ack(t, "p1", new Position(150, 0)));
        Assert.Equal(210ul, t.Confirmable);
        Assert.Equal(0, t.PendingTransactions);
    }

    [Fact]
    public void EmptyTransaction_IsConfirmableAtOnce()
    {
        var t = new CheckpointTracker();
        Assert.True(t.Committed(50));
        Assert.Equal(50ul, t.Confirmable);
    }

    [Fact]
    public void InFlight_IsReleasedBatchByBatch_EvenInsideOneUncommittedTransaction()
    {
        var t = new CheckpointTracker();
        EmitBatch(t, 0, 10);
        EmitBatch(t, 10, 15, seal: false);
        Assert.Equal(15, t.InFlightEvents);
        Ack(t, "p0", new Position(100, 9));
        Assert.Equal(5, t.InFlightEvents);
        Assert.Equal(0ul, t.Confirmable);
        Ack(t, "p0", new Position(100, 14));
        Assert.Equal(0, t.InFlightEvents);
        Assert.True(t.Committed(120));
    }

    [Fact]
    public void InFlight_IsReleasedUpToAnAcknowledgementInsideABatch_AndTheBatchStaysOldUntilAllOfItIsDurable()
    {
        var t = new CheckpointTracker();
        EmitBatch(t, 0, 10);
        Thread.Sleep(30);
        // A partition wrote a file that ends in the middle of the batch (its target size was reached there).
        Ack(t, "p0", new Position(100, 6));
        Assert.Equal(3, t.InFlightEvents);
        Assert.True(t.OldestInFlightAge >= TimeSpan.FromMilliseconds(25));
        Ack(t, "p0", new Position(100, 9));
        Assert.Equal(0, t.InFlightEvents);
        Assert.Equal(TimeSpan.Zero, t.OldestInFlightAge);
    }

    [Fact]
    public void Acknowledgement_PastWhatTheRunEmitted_IsRefusedAndConfirmsNothing()
    {
        var t = new CheckpointTracker();
        t.Emitted("p0", new Position(100, 0));
        t.Committed(110);
        t.Emitted("p0", new Position(200, 0));
        Assert.Equal(Acknowledgement.Refused, t.Acknowledged(0, "p0", new Position(ulong.MaxValue, 0)));
        Assert.Equal(Acknowledgement.Refused, t.Acknowledged(0, "p1", new Position(100, 0)));
        Assert.Equal(0ul, t.Confirmable);
        Assert.Equal(2, t.InFlightEvents);
        Assert.Equal(Acknowledgement.Confirmable, t.Acknowledged(0, "p0", new Position(100, 0)));
        Assert.Equal(110ul, t.Confirmable);
    }

    [Fact]
    public void Acknowledgement_OfAnEarlierRun_IsStaleAndChangesNothing()
    {
        var t = new CheckpointTracker();
        t.Restarted(3);
        t.Emitted("p0", new Position(100, 0));
        t.Committed(110);
        Assert.Equal(Acknowledgement.Stale, t.Acknowledged(2, "p0", new Position(100, 0)));
        Assert.Equal(0ul, t.Confirmable);
        Assert.Equal(Acknowledgement.Confirmable, t.Acknowledged(3, "p0", new Position(100, 0)));
    }

    /// <summary>An acknowledgement in the tracker's current run; true when it made the LSN confirmable.</summary>
    private static bool Ack(CheckpointTracker t, string stream, Position durable) =>
        t.Acknowledged(t.Epoch, stream, durable) == Acknowledgement.Confirmable;

    /// <summary>Changes <paramref name="from"/> to <paramref name="to"/> (exclusive) of one transaction go out on p0 as one batch.</summary>
    private static void EmitBatch(CheckpointTracker t, uint from, uint to, bool seal = true)
    {
        for (var i = from; i < to; i++)
        {
            t.Emitted("p0", new Position(100, i));
        }
        if (seal)
        {
            t.Sealed();
        }
    }
}

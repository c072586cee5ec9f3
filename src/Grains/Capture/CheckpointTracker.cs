using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Capture;

/// <summary>
/// Decides how far a source may confirm to its database. A transaction is confirmable when every partition that
/// received one of its changes reports the change durable; transactions confirm strictly in commit order, so the
/// confirmed LSN never passes a change that could still be lost.
/// </summary>
public sealed class CheckpointTracker
{
    private readonly Queue<PendingTransaction> _pending = new();
    private readonly Dictionary<string, Position> _durable = new(StringComparer.Ordinal);
    private Dictionary<string, Position> _open = new(StringComparer.Ordinal);
    private long _openEvents;

    /// <summary>Changes emitted but not yet confirmable.</summary>
    public long PendingEvents { get; private set; }

    /// <summary>Committed transactions not yet confirmable.</summary>
    public int PendingTransactions => _pending.Count;

    /// <summary>End LSN of the newest confirmable transaction; 0 until one is.</summary>
    public ulong Confirmable { get; private set; }

    /// <summary>A change of the open transaction went out on <paramref name="stream"/>.</summary>
    public void Emitted(string stream, Position position)
    {
        _open[stream] = position;
        _openEvents++;
        PendingEvents++;
    }

    /// <summary>The open transaction committed at <paramref name="endLsn"/>. Returns true when the confirmable LSN moved.</summary>
    public bool Committed(ulong endLsn)
    {
        _pending.Enqueue(new PendingTransaction(endLsn, _open, _openEvents));
        _open = new Dictionary<string, Position>(StringComparer.Ordinal);
        _openEvents = 0;
        return Advance();
    }

    /// <summary>A partition reports everything it received up to <paramref name="durable"/> as durable. Returns true when the confirmable LSN moved.</summary>
    public bool Acknowledged(string stream, Position durable)
    {
        if (_durable.TryGetValue(stream, out var known) && known >= durable)
        {
            return false;
        }
        _durable[stream] = durable;
        return Advance();
    }

    /// <summary>
    /// Forgets emitted-but-unconfirmed transactions: capture restarts from the confirmed LSN and emits them again.
    /// Durable positions stay, because they describe what is in the lake.
    /// </summary>
    public void Restarted()
    {
        _pending.Clear();
        _open = new Dictionary<string, Position>(StringComparer.Ordinal);
        _openEvents = 0;
        PendingEvents = 0;
    }

    private bool Advance()
    {
        var moved = false;
        while (_pending.TryPeek(out var tx) && IsDurable(tx))
        {
            _pending.Dequeue();
            PendingEvents -= tx.Events;
            if (tx.EndLsn > Confirmable)
            {
                Confirmable = tx.EndLsn;
                moved = true;
            }
        }
        return moved;
    }

    private bool IsDurable(PendingTransaction tx)
    {
        foreach (var (stream, last) in tx.LastByStream)
        {
            if (!_durable.TryGetValue(stream, out var durable) || durable < last)
            {
                return false;
            }
        }
        return true;
    }

    private sealed record PendingTransaction(ulong EndLsn, Dictionary<string, Position> LastByStream, long Events);
}

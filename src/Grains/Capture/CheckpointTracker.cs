using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Capture;

/// <summary>
/// Decides how far a source may confirm to its database. A transaction is confirmable when every partition that
/// received one of its changes reports the change durable; transactions confirm strictly in commit order, so the
/// confirmed LSN never passes a change that could still be lost. It also counts changes in flight (emitted,
/// not yet durable), which bounds memory whatever the size of a transaction.
/// </summary>
public sealed class CheckpointTracker
{
    private readonly Queue<PendingTransaction> _pending = new();
    private readonly Dictionary<string, Position> _durable = new(StringComparer.Ordinal);
    private Dictionary<string, Position> _open = new(StringComparer.Ordinal);
    private long _openEvents;
    private readonly Dictionary<string, InFlightRuns> _inFlight = new(StringComparer.Ordinal);
    /// <summary>The newest position emitted on each stream in the current run: no acknowledgement may pass it.</summary>
    private readonly Dictionary<string, Position> _emitted = new(StringComparer.Ordinal);

    /// <summary>The capture run acknowledgements must name; set by <see cref="Restarted"/>.</summary>
    public long Epoch { get; private set; }

    /// <summary>Changes emitted and not yet reported durable by their partition: the back-pressure measure.</summary>
    public long InFlightEvents { get; private set; }

    /// <summary>Changes emitted but not yet confirmable.</summary>
    public long PendingEvents { get; private set; }

    /// <summary>Committed transactions not yet confirmable.</summary>
    public int PendingTransactions => _pending.Count;

    /// <summary>Commit time of the newest confirmable transaction (or heartbeat).</summary>
    public DateTimeOffset ConfirmedCommitTime { get; private set; }

    /// <summary>End LSN of the newest confirmable transaction; 0 until one is.</summary>
    public ulong Confirmable { get; private set; }

    /// <summary>A change of the open transaction went out on <paramref name="stream"/>.</summary>
    public void Emitted(string stream, Position position)
    {
        _open[stream] = position;
        if (!_emitted.TryGetValue(stream, out var newest) || position > newest)
        {
            _emitted[stream] = position;
        }
        _openEvents++;
        PendingEvents++;
        if (_durable.TryGetValue(stream, out var durable) && position <= durable)
        {
            return; // a replay of something already in the lake
        }
        if (!_inFlight.TryGetValue(stream, out var runs))
        {
            _inFlight[stream] = runs = new InFlightRuns();
        }
        runs.Add(position);
        InFlightEvents++;
    }

    /// <summary>
    /// How long the oldest unacknowledged run of changes has waited. A healthy partition acknowledges within a
    /// few flush intervals, so a long wait means its batch (or its buffer) was lost and capture must replay.
    /// </summary>
    public TimeSpan OldestInFlightAge
    {
        get
        {
            var oldest = long.MaxValue;
            foreach (var runs in _inFlight.Values)
            {
                oldest = Math.Min(oldest, runs.OldestEmittedAt);
            }
            return oldest == long.MaxValue ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Environment.TickCount64 - oldest);
        }
    }

    /// <summary>Ends the current runs of in-flight changes, so acknowledgements can release them batch by batch.</summary>
    public void Sealed()
    {
        foreach (var runs in _inFlight.Values)
        {
            runs.Seal();
        }
    }

    /// <summary>Commit time of the oldest committed transaction that is not yet durable.</summary>
    public DateTimeOffset? OldestPendingCommitTime => _pending.TryPeek(out var tx) ? tx.CommitTime : null;

    /// <summary>The open transaction committed at <paramref name="endLsn"/>. Returns true when the confirmable LSN moved.</summary>
    public bool Committed(ulong endLsn, DateTimeOffset commitTime = default)
    {
        _pending.Enqueue(new PendingTransaction(endLsn, _open, _openEvents, commitTime));
        _open = new Dictionary<string, Position>(StringComparer.Ordinal);
        _openEvents = 0;
        return Advance();
    }

    /// <summary>
    /// A partition reports everything it received in run <paramref name="epoch"/> up to <paramref name="durable"/> as
    /// durable. Only what this run emitted on that stream can be acknowledged: an acknowledgement of another run, or of a
    /// position past the stream's newest emitted one, changes nothing, so no caller (a stale partition, or a client
    /// that reached the cluster) can make the source confirm WAL that never reached the lake.
    /// </summary>
    public Acknowledgement Acknowledged(long epoch, string stream, Position durable)
    {
        if (epoch != Epoch)
        {
            return Acknowledgement.Stale;
        }
        if (!_emitted.TryGetValue(stream, out var newest) || durable > newest)
        {
            return Acknowledgement.Refused;
        }
        var moved = !_durable.TryGetValue(stream, out var known) || durable > known;
        if (moved)
        {
            _durable[stream] = durable;
        }
        // Even an acknowledgement that moves nothing releases replays emitted since the last one.
        if (_inFlight.TryGetValue(stream, out var runs))
        {
            InFlightEvents -= runs.Release(moved ? durable : known);
        }
        return moved && Advance() ? Acknowledgement.Confirmable : Acknowledgement.Accepted;
    }

    /// <summary>
    /// Forgets emitted-but-unconfirmed transactions: capture restarts from the confirmed LSN and emits them again.
    /// Durable positions stay, because they describe what is in the lake. <paramref name="epoch"/> numbers the new run.
    /// </summary>
    public void Restarted(long epoch)
    {
        Epoch = epoch;
        _emitted.Clear();
        _pending.Clear();
        _open = new Dictionary<string, Position>(StringComparer.Ordinal);
        _openEvents = 0;
        PendingEvents = 0;
        _inFlight.Clear();
        InFlightEvents = 0;
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
            if (tx.CommitTime > ConfirmedCommitTime)
            {
                ConfirmedCommitTime = tx.CommitTime;
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

    /// <summary>
    /// Emitted positions of one stream that are not yet durable, in order, and when each run of them (one per sealed
    /// batch) went out. An acknowledgement releases every position up to it, also inside a run, since a partition
    /// may write a file in the middle of a batch (at its target file size); a run's age counts until all of it is
    /// released. One position (16 bytes) per change in flight, so at most <c>MaxPendingChanges</c> of them.
    /// </summary>
    private sealed class InFlightRuns
    {
        private readonly Queue<Position> _positions = new();
        private readonly Queue<(Position Last, long EmittedAt)> _sealed = new();
        private (Position Last, long EmittedAt)? _open;

        public long OldestEmittedAt => _sealed.TryPeek(out var run) ? run.EmittedAt : _open?.EmittedAt ?? long.MaxValue;

        public void Add(Position position)
        {
            _positions.Enqueue(position);
            _open = (position, _open?.EmittedAt ?? Environment.TickCount64);
        }

        public void Seal()
        {
            if (_open is { } run)
            {
                _sealed.Enqueue(run);
                _open = null;
            }
        }

        public long Release(Position durable)
        {
            long released = 0;
            while (_positions.TryPeek(out var position) && position <= durable)
            {
                _positions.Dequeue();
                released++;
            }
            while (_sealed.TryPeek(out var run) && run.Last <= durable)
            {
                _sealed.Dequeue();
            }
            if (_sealed.Count == 0 && _open is { } open && open.Last <= durable)
            {
                _open = null;
            }
            return released;
        }
    }

    private sealed record PendingTransaction(ulong EndLsn, Dictionary<string, Position> LastByStream, long Events, DateTimeOffset CommitTime);
}

/// <summary>What became of a partition's acknowledgement.</summary>
public enum Acknowledgement
{
    /// <summary>Accepted; the confirmable LSN did not move.</summary>
    Accepted,
    /// <summary>Accepted, and the confirmable LSN moved.</summary>
    Confirmable,
    /// <summary>Names an earlier capture run: ignored (a partition's late answer).</summary>
    Stale,
    /// <summary>Names a position this run never emitted on the stream: refused, logged and counted.</summary>
    Refused,
}

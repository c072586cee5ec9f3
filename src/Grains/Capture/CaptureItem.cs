using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Capture;

/// <summary>What a capture reader hands to its source grain, in source order.</summary>
public abstract record CaptureItem;

/// <summary>One change, already routed to its table partition.</summary>
public sealed record CapturedChange(PartitionAddress Partition, TableSchema Schema, ChangeEvent Event) : CaptureItem;

/// <summary>
/// The end of a transaction (or a heartbeat, which acts as an empty one): once everything before it is durable,
/// <paramref name="EndLsn"/> can be confirmed.
/// </summary>
public sealed record CapturedCommit(ulong EndLsn, DateTimeOffset CommitTime, bool Heartbeat = false) : CaptureItem;

/// <summary>
/// A low or high watermark of one read of an incremental snapshot chunk (<paramref name="Window"/>), at its place
/// in the log: <paramref name="Lsn"/> is a commit position after every transaction that committed before the
/// watermark and before every one after it.
/// </summary>
public sealed record CapturedWatermark(bool High, string Window, ulong Lsn) : CaptureItem;

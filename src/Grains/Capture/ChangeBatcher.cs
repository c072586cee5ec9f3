using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture;

/// <summary>
/// Cuts a source's captured changes into <see cref="ChangeBatch"/>es per table partition and sends them on the
/// partitions' streams: one schema per batch, batches well below the transport's item limit, a sequence per
/// stream within the capture run (the epoch) so partitions detect a lost batch, and changes too large for the
/// transport sent as claim checks (the change goes to the lake, the batch carries its key). Every change is
/// reported to the <see cref="CheckpointTracker"/> as emitted.
/// </summary>
public sealed class ChangeBatcher(IStreamProvider streams, ILakeStore lake, LakeLayout layout, Serializer serializer, CheckpointTracker tracker, SourceKind kind)
{
    // The in-memory stream carries items of at most 1 MiB; batches are cut well below that.
    private const long MaxBatchBytes = 256 * 1024;
    private readonly Dictionary<string, long> _sequence = new(StringComparer.Ordinal);
    private readonly Dictionary<PartitionAddress, string> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, (PartitionAddress Address, TableSchema Schema, List<ChangeEvent> Events, long Bytes)> _open = new(StringComparer.Ordinal);
    private readonly List<ChangeBatch> _sealed = new();
    private long _epoch;

    /// <summary>Starts a capture run: batch sequences start again at 0 under the new epoch.</summary>
    public void Restart(long epoch)
    {
        _epoch = epoch;
        _sequence.Clear();
        _keys.Clear();
        _open.Clear();
        _sealed.Clear();
    }

    /// <summary>Adds a change for a partition (capture reuses one address instance per partition, so its key is computed once).</summary>
    public void Add(PartitionAddress partition, TableSchema schema, ChangeEvent change)
    {
        if (!_keys.TryGetValue(partition, out var key))
        {
            _keys[partition] = key = partition.ToString();
        }
        var bytes = EventBytes(change);
        if (_open.TryGetValue(key, out var batch) && (!ReferenceEquals(batch.Schema, schema) || batch.Bytes + bytes > MaxBatchBytes))
        {
            _sealed.Add(Seal(key, batch));
            _open.Remove(key);
        }
        if (!_open.TryGetValue(key, out batch))
        {
            batch = (partition, schema, new List<ChangeEvent>(), 0);
        }
        batch.Events.Add(change);
        _open[key] = batch with { Bytes = batch.Bytes + bytes };
        tracker.Emitted(key, change.Position);
    }

    /// <summary>Seals every open batch and sends all sealed batches: in order per stream, streams concurrently.</summary>
    public async Task PublishAsync()
    {
        foreach (var (key, batch) in _open)
        {
            _sealed.Add(Seal(key, batch));
        }
        _open.Clear();
        tracker.Sealed();
        if (_sealed.Count == 0)
        {
            return;
        }
        var batches = _sealed.ToArray();
        _sealed.Clear();
        await Task.WhenAll(batches.GroupBy(b => b.Partition.ToString()).Select(async group =>
        {
            var stream = streams.GetStream<ChangeBatch>(StreamId.Create(PartitionAddress.StreamNamespace, group.Key));
            foreach (var batch in group)
            {
                await stream.OnNextAsync(await SpillOversizedAsync(batch));
            }
        }));
    }

    private ChangeBatch Seal(string key, (PartitionAddress Address, TableSchema Schema, List<ChangeEvent> Events, long Bytes) batch)
    {
        var sequence = _sequence.GetValueOrDefault(key);
        _sequence[key] = sequence + 1;
        return new ChangeBatch(batch.Address, _epoch, sequence, batch.Schema, batch.Events, kind);
    }

    private static long EventBytes(ChangeEvent e) => 64 + RowBytes(e.Before) + RowBytes(e.After);

    private static long RowBytes(string?[]? row)
    {
        long bytes = 0;
        foreach (var v in row ?? [])
        {
            bytes += 8 + (v?.Length ?? 0) * 3L;
        }
        return bytes;
    }

    private async Task<ChangeBatch> SpillOversizedAsync(ChangeBatch batch)
    {
        if (!batch.Events.Any(e => EventBytes(e) > MaxBatchBytes))
        {
            return batch;
        }
        var events = new List<ChangeEvent>(batch.Events.Count);
        foreach (var e in batch.Events)
        {
            if (EventBytes(e) <= MaxBatchBytes)
            {
                events.Add(e);
                continue;
            }
            var key = layout.SpillKey(batch.Partition, e.Position);
            await lake.PutAsync(key, serializer.SerializeToArray(e));
            events.Add(new ChangeEvent(e.Operation, e.Position, e.CommitTime, null, null, null, key));
        }
        return batch with { Events = events };
    }
}

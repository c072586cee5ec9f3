using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Placement;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// Reads one shard of a DynamoDB stream. It keeps only its open iterator and records fetched but not yet handed
/// out, so losing it with its silo loses nothing: the source asks the new activation to read after the last
/// sequence number it logged, and the grain positions a fresh iterator there. Expired iterators are renewed from
/// the same sequence number; throttling backs off and retries; trimmed records are reported, never skipped.
/// Shards are spread over the silos like partitions.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class DynamoShardGrain(ILogger<DynamoShardGrain> logger) : Grain, IDynamoShardGrain
{
    private const int MaxRecordsPerCall = 1000;
    private const int MaxAttempts = 8;
    private DynamoStreamsClient? _client;
    private DynamoConnection? _connection;
    private string? _after;
    private bool _positioned;
    private string? _iterator;
    private readonly Queue<DynamoRecord> _fetched = new();
    /// <summary>The next GetRecords call, started when a live read returned, so the source's round and this call overlap.</summary>
    private Task<(string? Lost, int Fetched)>? _prefetch;

    /// <inheritdoc />
    public async Task<ShardPage> ReadAsync(ShardRead request)
    {
        var ct = CancellationToken.None;
        var prefetched = _prefetch is { } prefetch ? await prefetch : (null, 0);
        _prefetch = null;
        if (prefetched.Lost is { } lostAhead && _after == request.After)
        {
            return new ShardPage([], false, lostAhead);
        }
        if (_client is null || _connection != request.Connection)
        {
            _client?.Dispose();
            _client = new DynamoStreamsClient(DynamoSourceAdmin.StreamsEndpoint(request.Connection));
            _connection = request.Connection;
            _positioned = false;
        }
        if (!_positioned || _after != request.After)
        {
            _fetched.Clear();
            _after = request.After;
            var positioned = await PositionAsync(request, ct);
            if (positioned is not null)
            {
                return new ShardPage([], false, positioned);
            }
        }
        var records = new List<DynamoRecord>();
        var emptyPolls = 0;
        while (true)
        {
            while (_fetched.TryDequeue(out var record))
            {
                records.Add(record);
                _after = record.Sequence;
                if (request.Through is { } through ? record.Sequence == through : records.Count >= request.Limit)
                {
                    return new ShardPage(records, false);
                }
            }
            if (_iterator is null)
            {
                return request.Through is { } missing
                    ? new ShardPage(records, true, $"shard {request.ShardId} ended before sequence number {missing}, which an earlier read returned")
                    : new ShardPage(records, true);
            }
            // A replay must reach its end; a live read returns what one call brought, and starts the next call.
            if (request.Through is null && (records.Count > 0 || emptyPolls > 0))
            {
                if (records.Count > 0 && _fetched.Count == 0)
                {
                    _prefetch = FetchAsync(request, ct);
                }
                return new ShardPage(records, false);
            }
            var (lost, fetched) = await FetchAsync(request, ct);
            if (lost is not null)
            {
                return new ShardPage(records, false, lost);
            }
            if (fetched == 0 && ++emptyPolls > 1000)
            {
                return new ShardPage(records, false, $"shard {request.ShardId} returned no records after sequence number {_after} although an earlier read did");
            }
        }
    }

    /// <summary>Opens an iterator after <see cref="_after"/> (or at the shard's start); returns why it could not.</summary>
    private async Task<string?> PositionAsync(ShardRead request, CancellationToken ct)
    {
        var type = _after is null ? ShardIteratorType.TrimHorizon : ShardIteratorType.AfterSequenceNumber;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _iterator = await _client!.GetShardIteratorAsync(request.StreamArn, request.ShardId, type, _after, ct);
                _positioned = true;
                return null;
            }
            catch (DynamoStreamsException e) when (e.Error is DynamoStreamsError.TrimmedDataAccess or DynamoStreamsError.ResourceNotFound)
            {
                return Lost(request, e);
            }
            catch (DynamoStreamsException e) when (e.Error == DynamoStreamsError.Throttled && attempt < MaxAttempts)
            {
                await BackOffAsync(request, attempt, e, ct);
            }
        }
    }

    /// <summary>One GetRecords call; renews an expired iterator and backs off when throttled.</summary>
    private async Task<(string? Lost, int Fetched)> FetchAsync(ShardRead request, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var page = await _client!.GetRecordsAsync(_iterator!, MaxRecordsPerCall, ct);
                foreach (var r in page.Records)
                {
                    _fetched.Enqueue(new DynamoRecord(r.SequenceNumber, r.EventName, r.ApproximateCreationDateTime,
                        DynamoItems.ToAttributes(r.Keys), r.NewImage is null ? null : DynamoItems.ToAttributes(r.NewImage),
                        r.OldImage is null ? null : DynamoItems.ToAttributes(r.OldImage)));
                }
                _iterator = page.NextShardIterator;
                return (null, page.Records.Count);
            }
            catch (DynamoStreamsException e) when (e.Error == DynamoStreamsError.ExpiredIterator && attempt < MaxAttempts)
            {
                // Iterators live 15 minutes; a fresh one after the last record handed out (or queued) resumes exactly.
                var last = _fetched.Count > 0 ? _fetched.Last().Sequence : _after;
                _iterator = await _client!.GetShardIteratorAsync(request.StreamArn, request.ShardId,
                    last is null ? ShardIteratorType.TrimHorizon : ShardIteratorType.AfterSequenceNumber, last, ct);
            }
            catch (DynamoStreamsException e) when (e.Error is DynamoStreamsError.TrimmedDataAccess or DynamoStreamsError.ResourceNotFound)
            {
                return (Lost(request, e), 0);
            }
            catch (DynamoStreamsException e) when (e.Error == DynamoStreamsError.Throttled && attempt < MaxAttempts)
            {
                await BackOffAsync(request, attempt, e, ct);
            }
        }
    }

    private string Lost(ShardRead request, DynamoStreamsException e)
    {
        _positioned = false;
        return e.Error == DynamoStreamsError.TrimmedDataAccess
            ? $"records of shard {request.ShardId} after sequence number {_after ?? "(shard start)"} were trimmed from the stream (older than its 24 h retention) before they were captured ({e.ErrorCode}); changes are missing. Re-snapshot the source"
            : $"shard {request.ShardId} of stream {request.StreamArn} no longer exists ({e.ErrorCode}: {e.Message}); changes after sequence number {_after ?? "(shard start)"} cannot be read. Re-snapshot the source";
    }

    private Task BackOffAsync(ShardRead request, int attempt, DynamoStreamsException e, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * Math.Pow(2, attempt)));
        DynamoLog.Throttled(logger, request.ShardId, delay, e.ErrorCode);
        return Task.Delay(delay, ct);
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _client?.Dispose();
        return Task.CompletedTask;
    }
}

using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Placement;
using Saiki.Orleans.Capture.Snapshot;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// Reads one segment of a DynamoDB table's parallel Scan with strongly consistent reads and writes its items as
/// one snapshot file. The file's schema is the table's key columns plus every attribute the segment's items
/// carry. Segments are independent grains, so the placement spreads them over the silos; a segment read again
/// (after a crash) replaces its file.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class DynamoScanSegmentGrain(
    ILakeStore store, LakeLayout layout, KafkaPublisher kafka, IOptions<LakeOptions> lake, ILogger<DynamoScanSegmentGrain> logger)
    : Grain, IDynamoScanSegmentGrain
{
    /// <inheritdoc />
    public async Task<long> ReadAsync(DynamoScanWork work)
    {
        var ct = CancellationToken.None;
        using var client = DynamoSourceAdmin.OpenClient(work.Connection);
        var keys = DynamoSourceAdmin.KeyColumns((await client.DescribeTableAsync(work.Table, ct)).Table);
        var shape = new DynamoTableShape(work.Table, keys, keys.Count);
        var items = new List<IReadOnlyList<DynamoAttribute>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await client.ScanAsync(new ScanRequest
            {
                TableName = work.Table, Segment = work.Segment, TotalSegments = work.TotalSegments,
                ConsistentRead = true, ExclusiveStartKey = start,
            }, ct);
            foreach (var item in page.Items ?? [])
            {
                var attributes = DynamoItems.ToAttributes(item);
                shape.Observe(attributes);
                items.Add(attributes);
            }
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        using var file = await SnapshotFile.CreateAsync(store, layout, kafka, lake.Value.FormatOf(work.Table), work.SourceId, work.Table, shape.Schema, work.Position, GrainFactory);
        foreach (var item in items)
        {
            await file.AddAsync(new ChangeEvent(ChangeOperation.Snapshot, work.Position, work.SnapshotTime, null, shape.Row(item)));
        }
        await file.CompleteAsync(work.Chunk, work.Position, work.SnapshotTime, ct);
        DynamoLog.SegmentScanned(logger, work.SourceId, work.Segment, work.TotalSegments, file.Count);
        this.DeactivateOnIdle();
        return file.Count;
    }
}

using Orleans.Runtime;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>
/// Batches published straight onto a partition's stream, as a capture run would after crashes and redeliveries:
/// the lake must hold each position exactly once, in order.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CleansingTests(PipelineCluster fixture)
{
    private static readonly TableSchema Schema = new("s.t", [new("id", "integer"), new("v", "text")], [0]);

    [Fact]
    public async Task Replays_Redeliveries_GapsAndStaleEpochs_LeaveEachPositionOnceInTheLake()
    {
        var address = new PartitionAddress("cleanse_" + Guid.NewGuid().ToString("N")[..8], "s.t", 0);
        var stream = fixture.Cluster.Client.GetStreamProvider(SaikiNames.StreamProvider)
            .GetStream<ChangeBatch>(StreamId.Create(PartitionAddress.StreamNamespace, address.ToString()));
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>(address.ToString());

        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 0, 1, 2, 3));
        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 1, 2, 3, 4, 5)); // overlaps: 2 and 3 are replays
        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 1, 4, 5));       // delivered twice
        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 3, 9));          // gap: sequence 2 was lost
        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 4, 10));         // still in the broken epoch
        await stream.OnNextAsync(Batch(address, epoch: 2, sequence: 0, 4, 5, 6, 7));  // the replay after the gap
        await stream.OnNextAsync(Batch(address, epoch: 1, sequence: 5, 11));         // a late batch of the old run

        var info = await Eventually.MatchAsync(partition.GetAsync, i => i.BufferedRows + i.RowsWritten == 7);
        await partition.FlushAsync();
        info = await partition.GetAsync();
        Assert.Equal(7, info.RowsWritten);
        Assert.Equal(new Position(7, 0), info.Durable);
        Assert.True(info.DuplicatesDropped >= 4, $"dropped {info.DuplicatesDropped}");

        var positions = new List<Position>();
        await foreach (var entry in new Manifest(fixture.Lake, fixture.Layout).ListAsync(address))
        {
            positions.AddRange(ChangeFile.Read((await fixture.Lake.GetAsync(entry.Key))!).Select(r => r.Position));
        }
        Assert.Equal(Enumerable.Range(1, 7).Select(i => new Position((ulong)i, 0)), positions);
    }

    private static ChangeBatch Batch(PartitionAddress address, long epoch, long sequence, params int[] commits) =>
        new(address, epoch, sequence, Schema, commits.Select(c => new ChangeEvent(
            ChangeOperation.Insert, new Position((ulong)c, 0), DateTimeOffset.UtcNow, null, [c.ToString(System.Globalization.CultureInfo.InvariantCulture), "v"])).ToArray());
}

using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Orleans;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Dynamo;

/// <summary>A cluster of its own: the test kills one of its silos.</summary>
public sealed class DynamoCrashCluster : DynamoCluster;

public sealed class DynamoCrashTests(DynamoCrashCluster fixture) : IClassFixture<DynamoCrashCluster>
{
    [Fact]
    public async Task KillingTheSiloThatHoldsAShardGrain_MidStream_LakeHasEveryChangeOnce()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_crash");
        var id = $"ddbc_{Guid.NewGuid():N}"[..13];
        await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 4));

        var writes = 0L;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                // 30 items, each updated over and over: version counts the updates of each.
                await table.BumpAsync($"k{n % 30}", n % 30, $"write {n}");
                Interlocked.Increment(ref writes);
                await Task.Delay(2);
            }
        });
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!.ChangesDurable, n => n > 300);

        var streamArn = (await table.Client.DescribeTableAsync(table.Name)).Table.LatestStreamArn;
        using var streams = new DynamoStreamsClient(new DynamoEndpoint(new Uri(TestEnvironment.DynamoUrl), DynamoTestTable.Region, new BasicAWSCredentials("test", "test")));
        var shard = (await streams.DescribeStreamAsync(streamArn, default)).Shards.Single(s => !s.IsClosed);
        var reader = fixture.Cluster.Client.GetGrain<IDynamoShardGrain>($"{id}|{shard.ShardId}");
        var victim = await fixture.KillSiloHoldingAsync(reader);
        var atKill = Interlocked.Read(ref writes);

        // Writes go on while the cluster notices; the shard is read again from the logged sequence numbers.
        await Eventually.MatchAsync(() => Task.FromResult(Interlocked.Read(ref writes)), n => n > atKill + 300);
        await stop.CancelAsync();
        await writer;

        var replay = await fixture.AssertLakeMatchesAsync(table, id, 4, TimeSpan.FromSeconds(90));
        var versions = (await table.ReadTableAsync()).Values.Sum(r => long.Parse(r["version"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(writes, versions);
        // Every update is in the lake exactly once.
        Assert.Equal(writes, replay.Changes);
        Assert.True(fixture.Cluster.TryGetGrainContext(reader.GetGrainId(), out var moved));
        Assert.NotEqual(victim.SiloAddress, moved!.Address.SiloAddress);
        Assert.Equal(SourceState.Running, (await fixture.Client.GetSourceAsync(id))!.State);
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
    }
}

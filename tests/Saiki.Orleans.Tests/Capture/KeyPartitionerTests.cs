using Saiki.Orleans.Capture;

namespace Saiki.Orleans.Tests.Capture;

public sealed class KeyPartitionerTests
{
    [Fact]
    public void SameKey_AlwaysLandsInTheSamePartition_AcrossProcesses()
    {
        // Pinned values: a change here would move existing keys to other partitions and break per-key order.
        Assert.Equal(KeyPartitioner.PartitionOf(["42"], 16), KeyPartitioner.PartitionOf(["42"], 16));
        Assert.Equal(1, KeyPartitioner.PartitionOf(["1"], 4));
        Assert.Equal(6, KeyPartitioner.PartitionOf(["order-7", "3"], 16));
    }

    [Fact]
    public void CompositeKeys_AreSeparated_SoShiftedBoundariesDiffer()
    {
        var spread = Enumerable.Range(0, 64).Count(p => KeyPartitioner.PartitionOf(["ab", "c"], 64 + p) != KeyPartitioner.PartitionOf(["a", "bc"], 64 + p));
        Assert.True(spread > 50, $"only {spread} of 64 moduli separate (ab,c) from (a,bc)");
        Assert.NotEqual(KeyPartitioner.PartitionOf([null], 1000), KeyPartitioner.PartitionOf([""], 1000));
    }

    [Fact]
    public void Keys_SpreadEvenlyOverPartitions()
    {
        var counts = new int[8];
        for (var i = 0; i < 80_000; i++)
        {
            counts[KeyPartitioner.PartitionOf([i.ToString(System.Globalization.CultureInfo.InvariantCulture)], 8)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9_000, 11_000));
    }

    [Fact]
    public void PartitionCountBelowOne_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.PartitionOf(["1"], 0));
}

using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// A partition's report to its source: the changes it received in capture run <see cref="Epoch"/> up to
/// <see cref="Durable"/> are in the lake. A source accepts it only for positions that run emitted to the partition.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-ack")]
public sealed record PartitionAck(
    [property: Id(0)] PartitionAddress Partition,
    [property: Id(1)] Position Durable,
    [property: Id(2)] long RowsWritten,
    [property: Id(3)] long FilesWritten,
    [property: Id(4)] long Epoch);

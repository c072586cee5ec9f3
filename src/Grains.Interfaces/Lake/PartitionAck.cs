using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>A partition's report to its source: changes up to <see cref="Durable"/> are in the lake.</summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-ack")]
public sealed record PartitionAck(
    [property: Id(0)] PartitionAddress Partition,
    [property: Id(1)] Position Durable,
    [property: Id(2)] long RowsWritten,
    [property: Id(3)] long FilesWritten);

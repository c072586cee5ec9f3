using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>State of one table partition's materializer.</summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-info")]
public sealed record PartitionInfo(
    [property: Id(0)] PartitionAddress Partition,
    [property: Id(1)] Position Durable,
    [property: Id(2)] long RowsWritten,
    [property: Id(3)] long FilesWritten,
    [property: Id(4)] int BufferedRows,
    [property: Id(5)] long DuplicatesDropped,
    [property: Id(6)] DateTimeOffset? LastFlush,
    [property: Id(7)] string? LastError);

using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>
/// The unit that travels on the <c>changes</c> stream: consecutive changes of one table partition, in position order.
/// <see cref="Epoch"/> numbers the source's capture runs and <see cref="Sequence"/> the batches within a run and
/// stream, so a partition can tell a lost batch (a gap) from a replay; <see cref="Kind"/> says which source grain
/// hears the partition's acknowledgements.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.change-batch")]
public sealed record ChangeBatch(
    [property: Id(0)] PartitionAddress Partition,
    [property: Id(1)] long Epoch,
    [property: Id(2)] long Sequence,
    [property: Id(3)] TableSchema Schema,
    [property: Id(4)] IReadOnlyList<ChangeEvent> Events,
    [property: Id(5)] Sources.SourceKind Kind = Sources.SourceKind.Postgres)
{
    /// <summary>Position of the last change in the batch.</summary>
    public Position LastPosition => Events[^1].Position;
}

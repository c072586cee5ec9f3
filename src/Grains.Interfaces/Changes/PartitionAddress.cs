using System.Globalization;
using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>
/// Names one stream partition of a captured table. Its <see cref="ToString"/> form
/// (<c>source|schema.table|partition</c>) is both the Orleans stream key and the partition grain key.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.partition-address")]
public sealed record PartitionAddress(
    [property: Id(0)] string SourceId,
    [property: Id(1)] string Table,
    [property: Id(2)] int Partition)
{
    /// <summary>Namespace of the Orleans stream that carries captured changes.</summary>
    public const string StreamNamespace = "changes";

    /// <inheritdoc />
    public override string ToString() => $"{SourceId}|{Table}|{Partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses the form written by <see cref="ToString"/>.</summary>
    public static PartitionAddress Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 3 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
        {
            throw new FormatException($"'{key}' is not a partition key: expected source|schema.table|partition");
        }
        return new PartitionAddress(parts[0], parts[1], partition);
    }
}

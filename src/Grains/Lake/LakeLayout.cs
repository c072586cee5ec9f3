using System.Globalization;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// Object keys of the lake. Data files are named after the position range they hold and filed under the hour (UTC)
/// of their first change's commit time, so a retried write of the same changes lands on the same key:
/// <c>{prefix}/{source}/{schema.table}/dt=YYYY-MM-DD/hr=HH/part-PPPP-{first}-{last}.{jsonl.gz|parquet}</c>.
/// Manifest entries sort by last position: <c>{prefix}/_manifest/{source}/{schema.table}/part-PPPP/{last}.json</c>.
/// Initial-snapshot chunks live beside them: <c>{source}/{schema.table}/snapshot/chunk-NNNNNN.{jsonl.gz|parquet}</c>, with
/// manifest entries under <c>…/snapshot/</c> whose partition is -1.
/// </summary>
public sealed class LakeLayout(string prefix)
{
    private readonly string _prefix = prefix.Length == 0 ? "" : prefix + "/";

    /// <summary>A key under the lake's prefix.</summary>
    public string Key(string relative) => _prefix + relative;

    /// <summary>File name extension of a format, with its leading dot.</summary>
    public static string ExtensionOf(LakeFormat format) => format switch
    {
        LakeFormat.JsonLines => ".jsonl.gz",
        LakeFormat.Parquet or LakeFormat.Iceberg => ".parquet",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown lake format"),
    };

    /// <summary>Key of a data file whose first change committed at <paramref name="firstCommitTime"/>.</summary>
    public string DataKey(PartitionAddress p, Position first, Position last, DateTimeOffset firstCommitTime, LakeFormat format) =>
        $"{DataPrefix(p, firstCommitTime)}{first.ToKey()}-{last.ToKey()}{ExtensionOf(format)}";

    /// <summary>Prefix of one partition's data files of one hour (UTC) of commit time.</summary>
    public string DataPrefix(PartitionAddress p, DateTimeOffset hour) =>
        $"{_prefix}{p.SourceId}/{p.Table}/{hour.UtcDateTime.ToString("'dt='yyyy-MM-dd'/hr='HH", CultureInfo.InvariantCulture)}/part-{p.Partition:D4}-";

    /// <summary>Prefixes of one partition's data files for every hour from <paramref name="from"/> to <paramref name="to"/>, both included.</summary>
    public IEnumerable<string> DataPrefixes(PartitionAddress p, DateTimeOffset from, DateTimeOffset to)
    {
        var start = from.UtcDateTime;
        for (var hour = new DateTimeOffset(start.Date.AddHours(start.Hour), TimeSpan.Zero); hour <= to; hour = hour.AddHours(1))
        {
            yield return DataPrefix(p, hour);
        }
    }

    /// <summary>Key of the manifest entry for a data file ending at <paramref name="last"/>.</summary>
    public string ManifestKey(PartitionAddress p, Position last) => $"{ManifestPrefix(p)}{last.ToKey()}.json";

    /// <summary>Prefix of one partition's manifest entries.</summary>
    public string ManifestPrefix(PartitionAddress p) => $"{_prefix}_manifest/{p.SourceId}/{p.Table}/part-{p.Partition:D4}/";

    /// <summary>Prefix of every manifest entry of a table.</summary>
    public string TableManifestPrefix(string sourceId, string table) => $"{_prefix}_manifest/{sourceId}/{table}/";

    /// <summary>Key of a table schema version: <c>{prefix}/_schemas/{source}/{schema.table}/{version}.json</c>.</summary>
    public string SchemaKey(string sourceId, string table, string version) => $"{SchemaPrefix(sourceId, table)}{version}.json";

    /// <summary>Prefix of a table's schema versions.</summary>
    public string SchemaPrefix(string sourceId, string table) => $"{_prefix}_schemas/{sourceId}/{table}/";

    /// <summary>Key of a table's completeness marker: <c>{prefix}/_completeness/{source}/{schema.table}.json</c>.</summary>
    public string CompletenessKey(string sourceId, string table) => $"{_prefix}_completeness/{sourceId}/{table}.json";

    /// <summary>Key of a change a sink refused: <c>{prefix}/_deadletter/{source}/{schema.table}/{position}.json</c>.</summary>
    public string DeadLetterKey(string sourceId, string table, Position position) => $"{DeadLetterPrefix(sourceId, table)}{position.ToKey()}.json";

    /// <summary>Prefix of a table's dead letters.</summary>
    public string DeadLetterPrefix(string sourceId, string table) => $"{_prefix}_deadletter/{sourceId}/{table}/";

    /// <summary>Key of a change too large for the stream, parked for its partition: <c>{prefix}/_spill/{source}/{schema.table}/part-PPPP/{position}.bin</c>.</summary>
    public string SpillKey(PartitionAddress p, Position position) => $"{_prefix}_spill/{p.SourceId}/{p.Table}/part-{p.Partition:D4}/{position.ToKey()}.bin";

    /// <summary>Key of an initial-snapshot chunk file.</summary>
    public string SnapshotDataKey(string sourceId, string table, int chunk, LakeFormat format) =>
        $"{_prefix}{sourceId}/{table}/snapshot/chunk-{chunk:D6}{ExtensionOf(format)}";

    /// <summary>Key of the manifest entry of an initial-snapshot chunk.</summary>
    public string SnapshotManifestKey(string sourceId, string table, int chunk) => $"{TableManifestPrefix(sourceId, table)}snapshot/chunk-{chunk:D6}.json";

    /// <summary>The first position named in a data key, or null when the key is not a data key.</summary>
    public static Position? FirstPositionOfDataKey(string key)
    {
        var name = key[(key.LastIndexOf('/') + 1)..];
        var parts = name.Split('-', '.');
        return parts.Length >= 4 && parts[0] == "part" ? Position.ParseKey(parts[2]) : null;
    }
}

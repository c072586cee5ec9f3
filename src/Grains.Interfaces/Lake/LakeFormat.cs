using System.Text.Json.Serialization;

namespace Saiki.Orleans.Lake;

/// <summary>Encoding of a lake data file (configured per table; each manifest entry names its file's).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LakeFormat>))]
public enum LakeFormat
{
    /// <summary>gzip-compressed JSON Lines, one change per line (<c>.jsonl.gz</c>).</summary>
    JsonLines = 0,
    /// <summary>Apache Parquet, one column per table column plus the change metadata (<c>.parquet</c>).</summary>
    Parquet = 1,
    /// <summary>
    /// Apache Iceberg v2 tables: typed Parquet data files (zstd, Iceberg field ids) committed by one committer per table
    /// into a changelog table any Iceberg reader opens (<c>.parquet</c>).
    /// </summary>
    Iceberg = 2,
}

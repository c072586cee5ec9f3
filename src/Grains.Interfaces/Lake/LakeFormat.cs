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
}

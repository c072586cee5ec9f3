using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Lake;

/// <summary>Where lake files go: a local directory (embedded default) or an S3 bucket. Section <c>Saiki:Lake</c>.</summary>
public sealed class LakeOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Lake";
    /// <summary>Default local lake directory, relative to the working directory.</summary>
    public const string DEFAULT_DIRECTORY = ".lake";

    /// <summary><c>Local</c> or <c>S3</c>.</summary>
    public LakeKind Kind { get; set; } = LakeKind.Local;
    /// <summary>Root directory of a local lake.</summary>
    public string Directory { get; set; } = DEFAULT_DIRECTORY;
    /// <summary>Key prefix inside the lake (no leading or trailing slash); empty for none.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>S3 settings, used when <see cref="Kind"/> is <c>S3</c>.</summary>
    public S3LakeOptions S3 { get; set; } = new();
    /// <summary>Committing of Iceberg tables (tables whose format is <c>Iceberg</c>).</summary>
    public IcebergLakeOptions Iceberg { get; set; } = new();
    /// <summary>File format of every table without an entry in <see cref="TableFormats"/>: <c>Iceberg</c> (the default), <c>JsonLines</c> or <c>Parquet</c>.</summary>
    public string Format { get; set; } = nameof(LakeFormat.Iceberg);
    /// <summary>Format per table (<c>schema.table</c> → <c>Iceberg</c>, <c>JsonLines</c> or <c>Parquet</c>), overriding <see cref="Format"/>.</summary>
    public Dictionary<string, string> TableFormats { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The format of a table's files (settings are validated at start-up, so they parse).</summary>
    public LakeFormat FormatOf(string table) =>
        ParseFormat(TableFormats.TryGetValue(table, out var format) ? format : Format)
        ?? throw new InvalidOperationException($"{Section}: format of {table} is not valid");

    /// <summary>A format by name (case-insensitive), or null.</summary>
    internal static LakeFormat? ParseFormat(string? name) =>
        Enum.GetValues<LakeFormat>().Cast<LakeFormat?>().FirstOrDefault(f => string.Equals(f.ToString(), name?.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// How a table's committer commits Iceberg snapshots (section <c>Saiki:Lake:Iceberg</c>): on time or size, whichever
/// comes first, so a table is fresh within seconds at any rate without a snapshot per file at high rates.
/// </summary>
public sealed class IcebergLakeOptions
{
    /// <summary>Longest a handed-over file waits for its snapshot.</summary>
    public TimeSpan CommitInterval { get; set; } = DEFAULT_COMMIT_INTERVAL;
    /// <summary>Rows waiting that make the committer commit at once.</summary>
    public long CommitRows { get; set; } = DEFAULT_COMMIT_ROWS;
    /// <summary>Manifests a snapshot may list before the committer merges them into one.</summary>
    public int MaxManifests { get; set; } = DEFAULT_MAX_MANIFESTS;
    /// <summary>Snapshots kept in the table metadata (older ones expire: time travel reaches back this far).</summary>
    public int SnapshotsKept { get; set; } = DEFAULT_SNAPSHOTS_KEPT;

    /// <summary>
    /// Files of the same compaction level in a row that a partition rewrites into one (a level higher): a partition
    /// keeps fewer than this many files of each level below full size, so each change is rewritten about
    /// log_CompactFiles(TargetFileBytes / flushed file size) times. 0 turns compaction off; the README's bound is
    /// stated for the default, 8.
    /// </summary>
    public int CompactFiles { get; set; } = DEFAULT_COMPACT_FILES;
    /// <summary>Live position-delete files of a mirror table above which the committer rewrites them all into one (dropping deletes of files compaction replaced).</summary>
    public int MaxDeleteFiles { get; set; } = DEFAULT_MAX_DELETE_FILES;

    /// <summary>Default <see cref="CompactFiles"/>: 8. On the 2-core benchmark machine at 5,000 rows/s it kept a
    /// 4-partition table at about 30 live data files and left commit-to-durable where it is without compaction (see the README).</summary>
    public const int DEFAULT_COMPACT_FILES = 8;
    /// <summary>Default <see cref="MaxDeleteFiles"/>.</summary>
    public const int DEFAULT_MAX_DELETE_FILES = 16;
    /// <summary>Default <see cref="CommitInterval"/>: 2 s (the Iceberg Kafka Connect sink's default is 5 minutes).</summary>
    public static readonly TimeSpan DEFAULT_COMMIT_INTERVAL = TimeSpan.FromSeconds(2);
    /// <summary>Default <see cref="CommitRows"/>.</summary>
    public const long DEFAULT_COMMIT_ROWS = 1_000_000;
    /// <summary>Default <see cref="MaxManifests"/>.</summary>
    public const int DEFAULT_MAX_MANIFESTS = 16;
    /// <summary>Default <see cref="SnapshotsKept"/>.</summary>
    public const int DEFAULT_SNAPSHOTS_KEPT = 100;
}

/// <summary>Object store behind the lake.</summary>
public enum LakeKind
{
    /// <summary>A directory on the silo's file system.</summary>
    Local,
    /// <summary>An S3 bucket (AWS or an S3-compatible endpoint).</summary>
    S3,
}

/// <summary>S3 bucket and endpoint. Credentials come from here or from the AWS SDK's default chain.</summary>
public sealed class S3LakeOptions
{
    /// <summary>Bucket name.</summary>
    public string Bucket { get; set; } = "";
    /// <summary>Endpoint URL for non-AWS stores (e.g. <c>https://127.0.0.1:9000</c>); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }
    /// <summary>Region (signing region for custom endpoints).</summary>
    public string Region { get; set; } = "us-east-1";
    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), needed by most S3-compatible stores.</summary>
    public bool ForcePathStyle { get; set; } = true;
    /// <summary>Access key id; empty to use the SDK's default credential chain.</summary>
    public string? AccessKey { get; set; }
    /// <summary>Secret access key; never logged.</summary>
    public string? SecretKey { get; set; }
    /// <summary>Create the bucket at start-up when it does not exist.</summary>
    public bool CreateBucket { get; set; }
    /// <summary>Objects larger than this go up as a multipart upload.</summary>
    public long MultipartThresholdBytes { get; set; } = DEFAULT_MULTIPART_THRESHOLD_BYTES;
    /// <summary>Size of each part of a multipart upload (the last one may be smaller); S3's minimum is 5 MiB.</summary>
    public long PartSizeBytes { get; set; } = DEFAULT_PART_SIZE_BYTES;

    /// <summary>Default <see cref="MultipartThresholdBytes"/>: 16 MiB.</summary>
    public const long DEFAULT_MULTIPART_THRESHOLD_BYTES = 16L << 20;
    /// <summary>Default <see cref="PartSizeBytes"/>: 8 MiB.</summary>
    public const long DEFAULT_PART_SIZE_BYTES = 8L << 20;
    /// <summary>S3's smallest part (all but the last part of an upload).</summary>
    public const long MIN_PART_SIZE_BYTES = 5L << 20;
    /// <summary>S3's largest part.</summary>
    public const long MAX_PART_SIZE_BYTES = 5L << 30;
}

internal sealed class LakeOptionsValidator : IValidateOptions<LakeOptions>
{
    private static readonly string Formats = string.Join(" or ", Enum.GetNames<LakeFormat>());

    public ValidateOptionsResult Validate(string? name, LakeOptions o)
    {
        var errors = new List<string>();
        if (o.Prefix.StartsWith('/') || o.Prefix.EndsWith('/'))
        {
            errors.Add($"{LakeOptions.Section}:Prefix '{o.Prefix}' must not start or end with '/'");
        }
        if (LakeOptions.ParseFormat(o.Format) is null)
        {
            errors.Add($"{LakeOptions.Section}:Format is '{o.Format}'; it must be {Formats}");
        }
        foreach (var (table, format) in o.TableFormats)
        {
            if (LakeOptions.ParseFormat(format) is null)
            {
                errors.Add($"{LakeOptions.Section}:TableFormats:{table} is '{format}'; it must be {Formats}");
            }
            if (table.Split('.') is not [{ Length: > 0 }, { Length: > 0 }])
            {
                errors.Add($"{LakeOptions.Section}:TableFormats:{table} does not name a table as schema.table");
            }
        }
        if (o.Iceberg.CommitInterval < TimeSpan.FromMilliseconds(100) || o.Iceberg.CommitInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:CommitInterval is {o.Iceberg.CommitInterval}; it must be between 00:00:00.1 and 01:00:00");
        }
        if (o.Iceberg.CommitRows < 1)
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:CommitRows is {o.Iceberg.CommitRows}; it must be at least 1");
        }
        if (o.Iceberg.MaxManifests is < 2 or > 10_000)
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:MaxManifests is {o.Iceberg.MaxManifests}; it must be between 2 and 10000");
        }
        if (o.Iceberg.CompactFiles is < 0 or 1 or > 1_000)
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:CompactFiles is {o.Iceberg.CompactFiles}; it must be 0 (off) or between 2 and 1000");
        }
        if (o.Iceberg.MaxDeleteFiles is < 1 or > 10_000)
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:MaxDeleteFiles is {o.Iceberg.MaxDeleteFiles}; it must be between 1 and 10000");
        }
        if (o.Iceberg.SnapshotsKept is < 1 or > 100_000)
        {
            errors.Add($"{LakeOptions.Section}:Iceberg:SnapshotsKept is {o.Iceberg.SnapshotsKept}; it must be between 1 and 100000");
        }
        switch (o.Kind)
        {
            case LakeKind.Local when string.IsNullOrWhiteSpace(o.Directory):
                errors.Add($"{LakeOptions.Section}:Directory is required when {LakeOptions.Section}:Kind is Local");
                break;
            case LakeKind.S3:
                if (string.IsNullOrWhiteSpace(o.S3.Bucket))
                {
                    errors.Add($"{LakeOptions.Section}:S3:Bucket is required when {LakeOptions.Section}:Kind is S3");
                }
                if (!string.IsNullOrEmpty(o.S3.ServiceUrl) && !Uri.TryCreate(o.S3.ServiceUrl, UriKind.Absolute, out _))
                {
                    errors.Add($"{LakeOptions.Section}:S3:ServiceUrl '{o.S3.ServiceUrl}' is not an absolute URL");
                }
                if (string.IsNullOrEmpty(o.S3.AccessKey) != string.IsNullOrEmpty(o.S3.SecretKey))
                {
                    errors.Add($"{LakeOptions.Section}:S3:AccessKey and {LakeOptions.Section}:S3:SecretKey must be set together");
                }
                if (o.S3.PartSizeBytes is < S3LakeOptions.MIN_PART_SIZE_BYTES or > S3LakeOptions.MAX_PART_SIZE_BYTES)
                {
                    errors.Add($"{LakeOptions.Section}:S3:PartSizeBytes is {o.S3.PartSizeBytes}; it must be between {S3LakeOptions.MIN_PART_SIZE_BYTES} (5 MiB) and {S3LakeOptions.MAX_PART_SIZE_BYTES} (5 GiB)");
                }
                if (o.S3.MultipartThresholdBytes < S3LakeOptions.MIN_PART_SIZE_BYTES)
                {
                    errors.Add($"{LakeOptions.Section}:S3:MultipartThresholdBytes is {o.S3.MultipartThresholdBytes}; it must be at least {S3LakeOptions.MIN_PART_SIZE_BYTES} (5 MiB)");
                }
                break;
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

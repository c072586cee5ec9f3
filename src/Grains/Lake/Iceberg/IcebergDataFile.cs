namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// A data or position-delete file as a manifest describes it (the spec's <c>data_file</c> struct). Readers trust
/// it: <paramref name="RecordCount"/> and <paramref name="FileSizeInBytes"/> must be exact (icebird reads the Parquet
/// footer at that offset and no row past that count), and <paramref name="FilePath"/> is fetched as written, never
/// resolved against the table location. Tables are unpartitioned for now, so the partition tuple is empty; when
/// partitioning arrives, the tuple belongs here and in <see cref="IcebergManifests"/>' <c>partition</c> record.
/// </summary>
/// <param name="Content"><see cref="DataContent"/> or <see cref="PositionDeletesContent"/>.</param>
/// <param name="FilePath">An absolute URI (<c>s3://bucket/key</c>, <c>file:///path</c>).</param>
/// <param name="FileFormat"><c>PARQUET</c>.</param>
/// <param name="RecordCount">Rows in the file (for a delete file: deleted positions).</param>
/// <param name="FileSizeInBytes">The file's exact length.</param>
/// <param name="ColumnSizes">Bytes on disk per field id.</param>
/// <param name="ValueCounts">Values per field id, nulls and NaNs included.</param>
/// <param name="NullValueCounts">Nulls per field id.</param>
/// <param name="NanValueCounts">NaNs per float/double field id.</param>
/// <param name="LowerBounds">Per field id, a value at most every non-null value, in the spec's single-value binary form.</param>
/// <param name="UpperBounds">Per field id, a value at least every non-null value, in the same form.</param>
/// <param name="SplitOffsets">Row group start offsets, ascending, so engines can split the file.</param>
/// <param name="ReferencedDataFile">For a position-delete file whose deletes all hit one data file: that file's path.</param>
public sealed record IcebergDataFile(
    int Content,
    string FilePath,
    string FileFormat,
    long RecordCount,
    long FileSizeInBytes,
    IReadOnlyDictionary<int, long>? ColumnSizes = null,
    IReadOnlyDictionary<int, long>? ValueCounts = null,
    IReadOnlyDictionary<int, long>? NullValueCounts = null,
    IReadOnlyDictionary<int, long>? NanValueCounts = null,
    IReadOnlyDictionary<int, byte[]>? LowerBounds = null,
    IReadOnlyDictionary<int, byte[]>? UpperBounds = null,
    IReadOnlyList<long>? SplitOffsets = null,
    string? ReferencedDataFile = null)
{
    /// <summary><c>content</c> of a file of rows.</summary>
    public const int DataContent = 0;

    /// <summary><c>content</c> of a file of (file_path, pos) pairs naming deleted rows.</summary>
    public const int PositionDeletesContent = 1;

    /// <summary>The file format name Saiki writes.</summary>
    public const string Parquet = "PARQUET";

    /// <summary>
    /// Data or position deletes. Equality deletes (2) are refused: icebird matches them by column name, ignoring
    /// <c>equality_ids</c> and partition scope, so a table using them would read differently there.
    /// </summary>
    public int Content { get; init; } = Content is DataContent or PositionDeletesContent
        ? Content
        : throw new NotSupportedException($"data file content {Content} is not supported: 0 (data) and 1 (position deletes) are");

    /// <summary>Absolute, because every reader uses it verbatim as a URL.</summary>
    public string FilePath { get; init; } = Uri.TryCreate(FilePath, UriKind.Absolute, out _)
        ? FilePath
        : throw new ArgumentException($"data file path {FilePath} is not an absolute URI; readers fetch it verbatim", nameof(FilePath));

    /// <summary>Never negative.</summary>
    public long RecordCount { get; init; } = RecordCount >= 0 ? RecordCount : throw new ArgumentOutOfRangeException(nameof(RecordCount), RecordCount, "a record count is not negative");

    /// <summary>Positive: every file format has a header or footer.</summary>
    public long FileSizeInBytes { get; init; } = FileSizeInBytes > 0 ? FileSizeInBytes : throw new ArgumentOutOfRangeException(nameof(FileSizeInBytes), FileSizeInBytes, "a file size is positive");

    /// <summary>Only position-delete files reference a data file.</summary>
    public string? ReferencedDataFile { get; init; } = ReferencedDataFile is null || Content == PositionDeletesContent
        ? ReferencedDataFile
        : throw new ArgumentException("only a position-delete file references a data file", nameof(ReferencedDataFile));
}

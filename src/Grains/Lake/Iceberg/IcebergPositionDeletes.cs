namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// The columns of a position-delete file (the spec's <c>file_position_delete</c>): rows sorted by
/// <see cref="FilePathColumn"/> then <see cref="PosColumn"/>, each naming one deleted row. Readers match
/// <see cref="FilePathColumn"/> to a data file's <c>file_path</c> as an exact string (icebird does no URI
/// normalisation), and icebird finds positions only when <see cref="PosColumn"/> is a 64-bit integer.
/// </summary>
public static class IcebergPositionDeletes
{
    /// <summary>The data file's path, exactly as its manifest entry has it (required string).</summary>
    public const string FilePathColumn = "file_path";

    /// <summary>The deleted row's zero-based position in that file (required long).</summary>
    public const string PosColumn = "pos";

    /// <summary>Reserved field id of <see cref="FilePathColumn"/>.</summary>
    public const int FilePathFieldId = 2147483546;

    /// <summary>Reserved field id of <see cref="PosColumn"/>.</summary>
    public const int PosFieldId = 2147483545;

    /// <summary>The schema of a position-delete file, for its Parquet <c>iceberg.schema</c> metadata.</summary>
    public static IcebergSchema Schema { get; } = new(0, [new(FilePathFieldId, FilePathColumn, true, "string"), new(PosFieldId, PosColumn, true, "long")]);
}

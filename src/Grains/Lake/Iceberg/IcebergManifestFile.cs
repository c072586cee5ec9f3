namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// One line of a manifest list (the spec's <c>manifest_file</c>): where a manifest is and what it holds, so a reader
/// can skip manifests without opening them. icebird only uses <paramref name="Path"/> and
/// <paramref name="SequenceNumber"/>; other engines plan scans with the counts, so they must be right (see
/// <see cref="IcebergManifests.Describe"/>).
/// </summary>
/// <param name="Path">The manifest's absolute URI, used verbatim.</param>
/// <param name="Length">The manifest's size in bytes.</param>
/// <param name="SpecId">The partition spec its entries were written with.</param>
/// <param name="Content"><see cref="DataContent"/> or <see cref="DeletesContent"/>.</param>
/// <param name="SequenceNumber">The sequence number of the commit that added the manifest.</param>
/// <param name="MinSequenceNumber">The lowest data sequence number of its live entries.</param>
/// <param name="AddedSnapshotId">The snapshot that added the manifest.</param>
/// <param name="AddedFiles">Entries with status added.</param>
/// <param name="ExistingFiles">Entries with status existing.</param>
/// <param name="DeletedFiles">Entries with status deleted.</param>
/// <param name="AddedRows">Rows of the added entries.</param>
/// <param name="ExistingRows">Rows of the existing entries.</param>
/// <param name="DeletedRows">Rows of the deleted entries.</param>
public sealed record IcebergManifestFile(
    string Path,
    long Length,
    int SpecId,
    int Content,
    long SequenceNumber,
    long MinSequenceNumber,
    long AddedSnapshotId,
    int AddedFiles,
    int ExistingFiles,
    int DeletedFiles,
    long AddedRows,
    long ExistingRows,
    long DeletedRows)
{
    /// <summary><c>content</c> of a manifest of data files.</summary>
    public const int DataContent = 0;

    /// <summary><c>content</c> of a manifest of delete files (scanned first by readers).</summary>
    public const int DeletesContent = 1;

    /// <summary>Data or deletes: a manifest never mixes the two.</summary>
    public int Content { get; init; } = Content is DataContent or DeletesContent
        ? Content
        : throw new ArgumentOutOfRangeException(nameof(Content), Content, "a manifest holds data (0) or deletes (1)");

    /// <summary>Absolute, because readers fetch it verbatim.</summary>
    public string Path { get; init; } = Uri.TryCreate(Path, UriKind.Absolute, out _)
        ? Path
        : throw new ArgumentException($"manifest path {Path} is not an absolute URI; readers fetch it verbatim", nameof(Path));
}

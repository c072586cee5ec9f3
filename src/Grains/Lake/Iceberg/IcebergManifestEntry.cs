namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// One line of a manifest: a file, whether this manifest added, kept or dropped it, and when it arrived. Both
/// sequence numbers are always written, never left to inheritance: the spec requires them for existing and deleted
/// entries (icebird throws without them), and explicit values keep a manifest meaningful on its own when state is
/// rebuilt from it.
/// </summary>
/// <param name="Status"><see cref="Existing"/>, <see cref="Added"/> or <see cref="Deleted"/>.</param>
/// <param name="SnapshotId">The snapshot that added the file (or, for <see cref="Deleted"/>, removed it).</param>
/// <param name="SequenceNumber">The data sequence number: position deletes apply to data files whose number is at most theirs.</param>
/// <param name="FileSequenceNumber">The sequence number of the commit that added the file.</param>
/// <param name="File">The file.</param>
public sealed record IcebergManifestEntry(int Status, long SnapshotId, long SequenceNumber, long FileSequenceNumber, IcebergDataFile File)
{
    /// <summary>The file was added by an earlier snapshot and is still live.</summary>
    public const int Existing = 0;

    /// <summary>The file was added by the snapshot that wrote this manifest.</summary>
    public const int Added = 1;

    /// <summary>The file was removed by the snapshot that wrote this manifest; kept for history, not read by scans.</summary>
    public const int Deleted = 2;

    /// <summary>One of the three statuses.</summary>
    public int Status { get; init; } = Status is Existing or Added or Deleted
        ? Status
        : throw new ArgumentOutOfRangeException(nameof(Status), Status, "a manifest entry status is 0 (existing), 1 (added) or 2 (deleted)");

    /// <summary>True unless the entry records a removal: scans read live entries only.</summary>
    public bool IsLive => Status != Deleted;
}

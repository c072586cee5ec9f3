using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// Estimates how many stored bytes a change will take in a lake file, so a partition can cut files at a target
/// size while it buffers. A change's raw size (its text values plus a fixed allowance for the change metadata)
/// is scaled by the ratio of stored to raw bytes of what this partition encoded recently: its written files and,
/// before the first one, a trial encoding of its buffer (<see cref="Calibrated"/>). Measurements count by their
/// raw size, and older ones fade by half per <paramref name="halfLifeRawBytes"/> encoded since, so the ratio follows
/// the data while small files (whose fixed overhead says little) barely move it.
/// </summary>
public sealed class FileSizeEstimator(long halfLifeRawBytes)
{
    /// <summary>Raw bytes counted for a change's metadata (operation, position, commit time, names).</summary>
    private const int ChangeOverhead = 48;
    /// <summary>Raw bytes counted per value besides its text (separators, null marker).</summary>
    private const int ValueOverhead = 4;

    private double _rawBytes;
    private double _storedBytes;

    /// <summary>True once an encoding has been measured; until then the ratio is 1 (raw bytes).</summary>
    public bool Calibrated => _rawBytes > 0;

    /// <summary>Stored bytes per raw byte.</summary>
    public double Ratio => Calibrated ? _storedBytes / _rawBytes : 1;

    /// <summary>Raw size of a change: the text of its row images plus fixed allowances.</summary>
    public static long RawSize(ChangeEvent change) => ChangeOverhead + ImageSize(change.Before) + ImageSize(change.After);

    /// <summary>Raw size of a run of changes.</summary>
    public static long RawSize(IEnumerable<(TableSchema Schema, ChangeEvent Event)> changes) => changes.Sum(c => RawSize(c.Event));

    /// <summary>Estimated stored bytes of a change (at least 1).</summary>
    public long Estimate(ChangeEvent change) => Math.Max(1, (long)Math.Ceiling(RawSize(change) * Ratio));

    /// <summary>Records that <paramref name="rawBytes"/> of changes were encoded into <paramref name="storedBytes"/>.</summary>
    public void Observe(long rawBytes, long storedBytes)
    {
        if (rawBytes <= 0)
        {
            return;
        }
        var keep = Math.Pow(0.5, rawBytes / (double)halfLifeRawBytes);
        _rawBytes = _rawBytes * keep + rawBytes;
        _storedBytes = _storedBytes * keep + storedBytes;
    }

    private static long ImageSize(string?[]? row)
    {
        if (row is null)
        {
            return 0;
        }
        long size = 0;
        foreach (var value in row)
        {
            size += (value?.Length ?? 0) + ValueOverhead;
        }
        return size;
    }
}

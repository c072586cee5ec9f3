using System.Text;

namespace Saiki.Orleans.Capture;

/// <summary>
/// Maps a row key to a stream partition: FNV-1a (64 bit) over the key values' UTF-8 bytes, modulo the partition
/// count. Stable across processes and releases, so a key always lands in the same partition and its order holds.
/// </summary>
public static class KeyPartitioner
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    /// <summary>The partition (0 … <paramref name="partitions"/>-1) of a key.</summary>
    public static int PartitionOf(ReadOnlySpan<string?> key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var hash = OffsetBasis;
        Span<byte> buffer = stackalloc byte[256];
        foreach (var value in key)
        {
            if (value is null)
            {
                hash = Mix(hash, 0xFE);
            }
            else
            {
                var bytes = Encoding.UTF8.GetByteCount(value) <= buffer.Length ? buffer : new byte[Encoding.UTF8.GetByteCount(value)];
                var n = Encoding.UTF8.GetBytes(value, bytes);
                foreach (var b in bytes[..n])
                {
                    hash = Mix(hash, b);
                }
            }
            // A separator keeps ("ab","c") and ("a","bc") apart.
            hash = Mix(hash, 0xFF);
        }
        return (int)(hash % (ulong)partitions);
    }

    private static ulong Mix(ulong hash, byte b) => (hash ^ b) * Prime;
}

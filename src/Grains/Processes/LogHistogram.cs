namespace Saiki.Orleans.Processes;

/// <summary>
/// Counts of durations in log-spaced buckets (64 per doubling, so a percentile is within 0.6 % of the true value),
/// mergeable by adding bucket arrays. Values are milliseconds.
/// </summary>
public static class LogHistogram
{
    private const double BUCKETS_PER_DOUBLING = 64;
    /// <summary>Buckets up to about 2^40 ms (35 years).</summary>
    public const int BUCKETS = 40 * 64;

    /// <summary>Bucket of a duration.</summary>
    public static int BucketOf(double milliseconds) =>
        Math.Clamp((int)(Math.Log2(Math.Max(0, milliseconds) + 1) * BUCKETS_PER_DOUBLING), 0, BUCKETS - 1);

    /// <summary>Representative value of a bucket (its geometric middle).</summary>
    public static double ValueOf(int bucket) => Math.Pow(2, (bucket + 0.5) / BUCKETS_PER_DOUBLING) - 1;

    /// <summary>The <paramref name="quantile"/> (0-1) of the counted values; 0 when empty.</summary>
    public static double Percentile(long[] buckets, double quantile)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return 0;
        }
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
            {
                return ValueOf(i);
            }
        }
        return ValueOf(buckets.Length - 1);
    }

    /// <summary>Adds <paramref name="from"/> into <paramref name="into"/> (grown as needed); returns the result.</summary>
    public static long[] Merge(long[] into, long[] from)
    {
        if (from.Length > into.Length)
        {
            Array.Resize(ref into, from.Length);
        }
        for (var i = 0; i < from.Length; i++)
        {
            into[i] += from[i];
        }
        return into;
    }

    /// <summary>The array without trailing empty buckets (for storage and messages).</summary>
    public static long[] Trim(long[] buckets)
    {
        var end = buckets.Length;
        while (end > 0 && buckets[end - 1] == 0)
        {
            end--;
        }
        return buckets[..end];
    }
}

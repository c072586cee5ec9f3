using System.Globalization;
using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>
/// Total order of changes within one source. For PostgreSQL, <see cref="Commit"/> is the commit LSN of the
/// transaction and <see cref="Sequence"/> the change's index inside it, so replays of the same change always
/// carry the same position and can be dropped.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.position")]
public readonly record struct Position(
    [property: Id(0)] ulong Commit,
    [property: Id(1)] uint Sequence) : IComparable<Position>
{
    /// <summary>The position before every change.</summary>
    public static Position Zero => default;

    /// <inheritdoc />
    public int CompareTo(Position other)
    {
        var c = Commit.CompareTo(other.Commit);
        return c != 0 ? c : Sequence.CompareTo(other.Sequence);
    }

    /// <summary>True when this position is strictly after <paramref name="other"/>.</summary>
    public bool IsAfter(Position other) => CompareTo(other) > 0;

    /// <summary>Fixed-width hexadecimal form (24 digits) that sorts like the position; used in object keys.</summary>
    public string ToKey() => Commit.ToString("X16", CultureInfo.InvariantCulture) + Sequence.ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>Parses the form written by <see cref="ToKey"/>.</summary>
    public static Position ParseKey(string key)
    {
        if (key.Length != 24 || !ulong.TryParse(key.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var commit)
            || !uint.TryParse(key.AsSpan(16, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var seq))
        {
            throw new FormatException($"'{key}' is not a position key: expected 24 hexadecimal digits");
        }
        return new Position(commit, seq);
    }

    /// <summary>PostgreSQL's text form of an LSN, e.g. <c>0/16B3748</c>.</summary>
    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";

    /// <inheritdoc />
    public override string ToString() => $"{FormatLsn(Commit)}#{Sequence}";

    /// <summary>Orders positions.</summary>
    public static bool operator <(Position a, Position b) => a.CompareTo(b) < 0;
    /// <summary>Orders positions.</summary>
    public static bool operator >(Position a, Position b) => a.CompareTo(b) > 0;
    /// <summary>Orders positions.</summary>
    public static bool operator <=(Position a, Position b) => a.CompareTo(b) <= 0;
    /// <summary>Orders positions.</summary>
    public static bool operator >=(Position a, Position b) => a.CompareTo(b) >= 0;
}

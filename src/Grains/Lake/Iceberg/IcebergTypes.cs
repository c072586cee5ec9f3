using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// Which Iceberg type a source column becomes, and how its text value (PostgreSQL's output form, or DynamoDB's
/// text of <see cref="Capture.Dynamo.DynamoItems"/>) is read into it. The mapping (README, "Iceberg lake"):
/// <list type="bullet">
/// <item>PostgreSQL <c>smallint</c>/<c>integer</c> → int, <c>bigint</c> → long, <c>real</c> → float,
/// <c>double precision</c> → double, <c>boolean</c> → boolean, <c>numeric(p,s)</c> with p ≤ 38 → decimal(p,s),
/// <c>date</c> → date, <c>timestamp</c> → timestamp, <c>timestamptz</c> → timestamptz (µs), <c>time</c> → time (µs),
/// <c>uuid</c> → uuid, <c>bytea</c> → binary; text types, <c>json</c>/<c>jsonb</c>, unconstrained <c>numeric</c> (its
/// scale is unbounded, so no decimal holds every value: the exact text is kept), enums, arrays and every other type
/// → string in PostgreSQL's text form.</item>
/// <item>DynamoDB <c>S</c> → string, <c>N</c> → string (38 significant digits at any scale from −130 to 125: no fixed
/// decimal holds them, so the exact digits DynamoDB sent are kept), <c>B</c> → binary, <c>BOOL</c> → boolean; sets,
/// maps, lists, <c>NULL</c> and attributes seen with several types → string (their JSON).</item>
/// </list>
/// A value its typed column cannot hold (numeric <c>NaN</c> and ±<c>Infinity</c>, infinite or out-of-range dates and
/// timestamps, <c>24:00:00</c>) is not bent into one: the typed column is null and the value's text is kept in the
/// row's <c>__text</c> column, so nothing is lost or silently changed.
/// </summary>
public static partial class IcebergTypes
{
    /// <summary>The Iceberg type of a column of source type <paramref name="sourceType"/>.</summary>
    public static string Of(string sourceType)
    {
        switch (sourceType)
        {
            case "smallint" or "integer":
                return "int";
            case "bigint":
                return "long";
            case "real":
                return "float";
            case "double precision":
                return "double";
            case "boolean" or "BOOL":
                return "boolean";
            case "date":
                return "date";
            case "uuid":
                return "uuid";
            case "bytea" or "B":
                return "binary";
        }
        if (Numeric().Match(sourceType) is { Success: true } numeric)
        {
            var precision = int.Parse(numeric.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            var scale = numeric.Groups[2].Success ? int.Parse(numeric.Groups[2].ValueSpan, CultureInfo.InvariantCulture) : 0;
            // Wider than 38 digits, or a scale past the precision (PostgreSQL 15 allows both): no decimal holds it.
            return precision <= 38 && scale <= precision ? $"decimal({precision},{scale})" : "string";
        }
        if (Temporal().Match(sourceType) is { Success: true } temporal)
        {
            return (temporal.Groups[1].Value, temporal.Groups[2].Value) switch
            {
                ("timestamp", "without") => "timestamp",
                ("timestamp", "with") => "timestamptz",
                ("time", "without") => "time",
                _ => "string", // time with time zone has no Iceberg type
            };
        }
        return "string";
    }

    /// <summary>Precision and scale of a <c>decimal(p,s)</c> type.</summary>
    public static (int Precision, int Scale) DecimalOf(string icebergType)
    {
        var comma = icebergType.IndexOf(',', StringComparison.Ordinal);
        return (int.Parse(icebergType.AsSpan(8, comma - 8), CultureInfo.InvariantCulture),
                int.Parse(icebergType.AsSpan(comma + 1, icebergType.Length - comma - 2), CultureInfo.InvariantCulture));
    }

    /// <summary>True when values of type <paramref name="from"/> can be read as <paramref name="to"/> (Iceberg's type promotions).</summary>
    public static bool Promotes(string from, string to)
    {
        if (from == to)
        {
            return true;
        }
        if ((from, to) is ("int", "long") or ("float", "double"))
        {
            return true;
        }
        if (from.StartsWith("decimal(", StringComparison.Ordinal) && to.StartsWith("decimal(", StringComparison.Ordinal))
        {
            var (p1, s1) = DecimalOf(from);
            var (p2, s2) = DecimalOf(to);
            return s1 == s2 && p2 >= p1;
        }
        return false;
    }

    /// <summary>A boolean: PostgreSQL prints <c>t</c>/<c>f</c>, DynamoDB <c>true</c>/<c>false</c>.</summary>
    public static bool ParseBoolean(string text) => text switch
    {
        "t" or "true" => true,
        "f" or "false" => false,
        _ => throw new FormatException($"'{text}' is not a boolean"),
    };

    /// <summary>A float or double in PostgreSQL's form, including <c>NaN</c> and ±<c>Infinity</c>.</summary>
    public static double ParseDouble(string text) => text switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>The unscaled value of a decimal of scale <paramref name="scale"/>; null for NaN and ±Infinity or more digits than fit.</summary>
    public static BigInteger? ParseUnscaled(string text, int precision, int scale)
    {
        var s = text.AsSpan();
        var negative = s.Length > 0 && s[0] == '-';
        if (negative || (s.Length > 0 && s[0] == '+'))
        {
            s = s[1..];
        }
        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? ReadOnlySpan<char>.Empty : s[(dot + 1)..];
        if (whole.IsEmpty && fraction.IsEmpty || !IsDigits(whole) || !IsDigits(fraction) || fraction.Length > scale)
        {
            return null;
        }
        Span<char> digits = stackalloc char[whole.Length + scale];
        whole.CopyTo(digits);
        fraction.CopyTo(digits[whole.Length..]);
        digits[(whole.Length + fraction.Length)..].Fill('0');
        var trimmed = digits.TrimStart('0');
        if (trimmed.Length > precision)
        {
            return null;
        }
        var value = trimmed.IsEmpty ? BigInteger.Zero : BigInteger.Parse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    /// <summary>Days since 1970-01-01 of a PostgreSQL date (<c>2024-02-29</c>, <c>0044-03-15 BC</c>); null for ±infinity.</summary>
    public static int? ParseDate(string text)
    {
        var s = text.AsSpan();
        if (!TryDate(ref s, out var days) || !s.IsEmpty)
        {
            return text is "infinity" or "-infinity" ? null : throw new FormatException($"'{text}' is not a date");
        }
        return days is >= int.MinValue and <= int.MaxValue ? (int)days : null;
    }

    /// <summary>
    /// Microseconds since 1970-01-01 00:00 UTC of a PostgreSQL timestamp (<c>2024-06-01 12:34:56.123456</c>) or
    /// timestamptz (<c>…+05:30</c>, offset applied); null for ±infinity and beyond Iceberg's range.
    /// </summary>
    public static long? ParseTimestamp(string text)
    {
        if (text is "infinity" or "-infinity")
        {
            return null;
        }
        var s = text.AsSpan();
        var bc = s.EndsWith(" BC");
        if (bc)
        {
            s = s[..^3];
        }
        var space = s.IndexOf(' ');
        if (space < 0)
        {
            throw new FormatException($"'{text}' is not a timestamp");
        }
        var datePart = s[..space];
        if (bc)
        {
            // The era belongs to the date: parse "YYYY-MM-DD BC".
            datePart = string.Concat(datePart, " BC");
        }
        if (!TryDate(ref datePart, out var days) || !datePart.IsEmpty)
        {
            throw new FormatException($"'{text}' is not a timestamp");
        }
        var rest = s[(space + 1)..];
        var offsetAt = rest.IndexOfAny('+', '-');
        var time = offsetAt < 0 ? rest : rest[..offsetAt];
        var micros = ParseTimeOfDay(time) ?? throw new FormatException($"'{text}' is not a timestamp");
        long offsetSeconds = 0;
        if (offsetAt >= 0)
        {
            var offset = rest[(offsetAt + 1)..];
            var parts = offset.ToString().Split(':');
            offsetSeconds = int.Parse(parts[0], CultureInfo.InvariantCulture) * 3600L
                + (parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) * 60L : 0)
                + (parts.Length > 2 ? int.Parse(parts[2], CultureInfo.InvariantCulture) : 0);
            if (rest[offsetAt] == '-')
            {
                offsetSeconds = -offsetSeconds;
            }
        }
        // PostgreSQL's range (4713 BC to 294276 AD) passes Iceberg's, int64 microseconds from 1970, near its end.
        try
        {
            return checked((days * 86_400L - offsetSeconds) * 1_000_000L + micros);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>Microseconds since midnight of a PostgreSQL time (<c>12:34:56.123456</c>); null for 24:00:00, which Iceberg's time cannot hold.</summary>
    public static long? ParseTime(string text)
    {
        var micros = ParseTimeOfDay(text) ?? throw new FormatException($"'{text}' is not a time");
        return micros < 86_400_000_000L ? micros : null;
    }

    /// <summary>Bytes of a <c>bytea</c> in hex form (<c>\x0aff</c>) or of DynamoDB base64.</summary>
    public static byte[] ParseBinary(string text) =>
        text.StartsWith("\\x", StringComparison.Ordinal) ? Convert.FromHexString(text.AsSpan(2)) : Convert.FromBase64String(text);

    private static long? ParseTimeOfDay(ReadOnlySpan<char> s)
    {
        if (s.Length < 8 || s[2] != ':' || s[5] != ':')
        {
            return null;
        }
        var hours = Digits(s[..2]);
        var minutes = Digits(s.Slice(3, 2));
        var seconds = Digits(s.Slice(6, 2));
        long fraction = 0;
        if (s.Length > 8)
        {
            if (s[8] != '.' || s.Length > 15 || !IsDigits(s[9..]))
            {
                return null;
            }
            var f = s[9..];
            fraction = Digits(f);
            for (var i = f.Length; i < 6; i++)
            {
                fraction *= 10;
            }
        }
        return ((hours * 60L + minutes) * 60L + seconds) * 1_000_000L + fraction;
    }

    /// <summary>Reads <c>Y…Y-MM-DD[ BC]</c> (years of four or more digits, proleptic Gregorian) from the start of <paramref name="s"/>.</summary>
    private static bool TryDate(ref ReadOnlySpan<char> s, out long days)
    {
        days = 0;
        var dash = s.IndexOf('-');
        if (dash < 4 || s.Length < dash + 6 || s[dash + 3] != '-' || !IsDigits(s[..dash]) || !IsDigits(s.Slice(dash + 1, 2)) || !IsDigits(s.Slice(dash + 4, 2)))
        {
            return false;
        }
        long year = Digits(s[..dash]);
        var month = (int)Digits(s.Slice(dash + 1, 2));
        var day = (int)Digits(s.Slice(dash + 4, 2));
        s = s[(dash + 6)..];
        if (s.StartsWith(" BC"))
        {
            year = 1 - year; // 1 BC is year 0
            s = s[3..];
        }
        days = DaysFromCivil(year, month, day);
        return true;
    }

    /// <summary>Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).</summary>
    private static long DaysFromCivil(long y, int m, int d)
    {
        y -= m <= 2 ? 1 : 0;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yoe = y - era * 400;
        var doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        var doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    private static long Digits(ReadOnlySpan<char> s)
    {
        long v = 0;
        foreach (var c in s)
        {
            v = v * 10 + (c - '0');
        }
        return v;
    }

    [GeneratedRegex(@"^numeric\((\d+)(?:,(\d+))?\)$")]
    private static partial Regex Numeric();

    [GeneratedRegex(@"^(timestamp|time)(?:\(\d\))? (with|without) time zone$")]
    private static partial Regex Temporal();
}

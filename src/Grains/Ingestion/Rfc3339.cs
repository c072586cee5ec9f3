using System.Globalization;
using System.Text.RegularExpressions;

namespace Saiki.Orleans.Ingestion;

/// <summary>RFC 3339 date-times: a full date, a time, and an offset (<c>Z</c> or <c>±hh:mm</c>); no local times.</summary>
public static partial class Rfc3339
{
    /// <summary>Parses an RFC 3339 date-time; false for anything else (a missing offset included).</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && Shape().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out value);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Shape();
}

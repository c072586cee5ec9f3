using System.Text.RegularExpressions;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>Names Saiki gives to objects it creates in a source database, and table-name normalization.</summary>
public static partial class PostgresNames
{
    /// <summary>Replication slot of a source.</summary>
    public static string Slot(string sourceId) => $"saiki_{sourceId}";

    /// <summary>Publication of a source.</summary>
    public static string Publication(string sourceId) => $"saiki_{sourceId}";

    /// <summary>Prefix of the non-transactional logical decoding messages a source writes as heartbeats.</summary>
    public const string HeartbeatPrefix = "saiki_heartbeat";

    /// <summary>
    /// Prefix of the logical decoding messages that bracket one read of an incremental snapshot chunk ("low:W",
    /// "high:W", W naming the read: the chunk's index and a unique suffix).
    /// </summary>
    public const string WatermarkPrefix = "saiki_watermark";

    /// <summary><c>orders</c> → <c>public.orders</c>; <c>sales.orders</c> stays.</summary>
    public static string QualifiedTable(string table) => table.Contains('.', StringComparison.Ordinal) ? table : "public." + table;

    /// <summary>Splits <c>schema.table</c>.</summary>
    public static (string Schema, string Table) Split(string qualified)
    {
        var dot = qualified.IndexOf('.', StringComparison.Ordinal);
        return (qualified[..dot], qualified[(dot + 1)..]);
    }

    /// <summary>Double-quoted identifier.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary><c>"schema"."table"</c>.</summary>
    public static string QuoteQualified(string qualified)
    {
        var (schema, table) = Split(qualified);
        return Quote(schema) + "." + Quote(table);
    }

    /// <summary>
    /// Names Saiki captures: letters, digits and <c>_</c> in schema and table. A table's name also names its lake
    /// folder, its grains (<c>{source}|{schema.table}|{partition}</c>) and its Kafka topic, and PostgreSQL allows
    /// characters (<c>$</c>, spaces, <c>|</c>, <c>/</c> in quoted names) that one of those cannot hold.
    /// </summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*$")]
    internal static partial Regex QualifiedTablePattern();

    /// <summary>
    /// The name a table's changes go under: its own when it is one Saiki can carry, otherwise (a table renamed after
    /// registration) each character other than letters, digits and <c>_</c> in schema and table becomes <c>_</c> and
    /// its UTF-8 bytes in hex (<c>public.price$eur</c> → <c>public.price_24eur</c>).
    /// </summary>
    public static string Carried(string qualified)
    {
        if (QualifiedTablePattern().IsMatch(qualified))
        {
            return qualified;
        }
        var (schema, table) = Split(qualified);
        return Safe(schema) + "." + Safe(table);

        static string Safe(string part)
        {
            var text = new System.Text.StringBuilder(part.Length + 8);
            Span<byte> bytes = stackalloc byte[4];
            foreach (var rune in part.EnumerateRunes())
            {
                if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value == '_'))
                {
                    text.Append((char)rune.Value);
                    continue;
                }
                var length = rune.EncodeToUtf8(bytes);
                text.Append('_').Append(Convert.ToHexStringLower(bytes[..length]));
            }
            return text.Length > 0 && char.IsAsciiDigit(text[0]) ? "_" + text : text.ToString();
        }
    }

    /// <summary>What a table name may hold, for messages.</summary>
    public const string NameRule = "letters, digits and '_' in schema and table: the name also names the table's lake folder, grains and Kafka topic";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\.\\*$")]
    internal static partial Regex SchemaPattern();
}

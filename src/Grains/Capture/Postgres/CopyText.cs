using System.Text;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// Decodes one line of PostgreSQL's COPY text format: tab-separated columns, <c>\N</c> for NULL, backslash escapes
/// for tab, newline and the rest. Values come out in the type's text form, the same form pgoutput streams.
/// </summary>
public static class CopyText
{
    /// <summary>Splits and unescapes a row of <paramref name="columns"/> values.</summary>
    public static string?[] ParseRow(string line, int columns)
    {
        var row = new string?[columns];
        var column = 0;
        var start = 0;
        for (var i = 0; i <= line.Length; i++)
        {
            if (i == line.Length || line[i] == '\t')
            {
                if (column >= columns)
                {
                    throw new FormatException($"COPY row has more than {columns} columns");
                }
                row[column++] = Decode(line.AsSpan(start, i - start));
                start = i + 1;
            }
        }
        if (column != columns)
        {
            throw new FormatException($"COPY row has {column} columns, expected {columns}");
        }
        return row;
    }

    private static string? Decode(ReadOnlySpan<char> field)
    {
        if (field is @"\N")
        {
            return null;
        }
        if (field.IndexOf('\\') < 0)
        {
            return field.ToString();
        }
        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            var c = field[i];
            if (c != '\\' || i + 1 == field.Length)
            {
                text.Append(c);
                continue;
            }
            var e = field[++i];
            switch (e)
            {
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case 'v': text.Append('\v'); break;
                case >= '0' and <= '7':
                    {
                        var value = 0;
                        var digits = 0;
                        while (digits < 3 && i < field.Length && field[i] is >= '0' and <= '7')
                        {
                            value = value * 8 + (field[i++] - '0');
                            digits++;
                        }
                        i--;
                        text.Append((char)value);
                        break;
                    }
                default: text.Append(e); break;
            }
        }
        return text.ToString();
    }
}

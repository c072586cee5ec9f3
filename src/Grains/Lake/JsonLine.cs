using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Saiki.Orleans.Lake;

/// <summary>
/// The JSON writer of lake lines and Kafka envelopes: compact objects of names and text values, written straight into
/// a byte buffer. Strings are escaped only where JSON requires it (quotation mark, backslash, control characters);
/// everything else, non-ASCII text included, stays UTF-8 as it is. A general writer checks every character against
/// an HTML-safe policy (every timestamptz's "+00" took its slow path), which made it the larger half of encoding.
/// </summary>
internal sealed class JsonLine(ArrayBufferWriter<byte> output)
{
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    private bool _comma;

    /// <summary>The buffer written to.</summary>
    public ArrayBufferWriter<byte> Output => output;

    /// <summary>Starts a new document after the last one (a line ended), keeping what the buffer holds.</summary>
    public void Reset() => _comma = false;

    /// <summary>Starts a new document in an emptied buffer.</summary>
    public void Clear()
    {
        output.ResetWrittenCount();
        _comma = false;
    }

    public void StartObject() => Open((byte)'{');

    public void StartArray() => Open((byte)'[');

    public void EndObject() => Close((byte)'}');

    public void EndArray() => Close((byte)']');

    /// <summary>A member name (pre-encoded with its quotes and colon).</summary>
    public void Name(JsonName name)
    {
        var utf8 = name.Utf8;
        var span = output.GetSpan(utf8.Length + 1);
        var at = Separator(span);
        utf8.CopyTo(span[at..]);
        output.Advance(at + utf8.Length);
        _comma = false;
    }

    /// <summary>A text value, or null.</summary>
    public void String(string? value)
    {
        if (value is null)
        {
            Null();
            return;
        }
        String(value.AsSpan());
    }

    /// <summary>A text value.</summary>
    public void String(ReadOnlySpan<char> value)
    {
        // Room for a separator and the worst case: every character a six-byte \u00XX escape, or three UTF-8 bytes.
        var span = output.GetSpan(value.Length * 6 + 3);
        var at = Separator(span);
        span[at++] = (byte)'"';
        Utf8.FromUtf16(value, span[at..], out _, out var written);
        var text = span.Slice(at, written);
        var first = text.IndexOfAny(NeedsEscape);
        if (first >= 0)
        {
            written = first + Escape(text[first..].ToArray(), span[(at + first)..]);
        }
        span[at + written] = (byte)'"';
        output.Advance(at + written + 1);
        _comma = true;
    }

    /// <summary>A member holding a text value.</summary>
    public void String(JsonName name, string? value)
    {
        Name(name);
        String(value);
    }

    /// <summary>An ASCII value already formatted into <paramref name="utf8"/> (digits, hex), quoted.</summary>
    public void QuotedAscii(ReadOnlySpan<byte> utf8)
    {
        var span = output.GetSpan(utf8.Length + 3);
        var at = Separator(span);
        span[at++] = (byte)'"';
        utf8.CopyTo(span[at..]);
        span[at + utf8.Length] = (byte)'"';
        output.Advance(at + utf8.Length + 1);
        _comma = true;
    }

    /// <summary>Members written before by this writer in the same place, with their leading separator, copied as they are.</summary>
    public void Fragment(ReadOnlySpan<byte> members)
    {
        members.CopyTo(output.GetSpan(members.Length));
        output.Advance(members.Length);
        _comma = true;
    }

    public void Number(long value)
    {
        var span = output.GetSpan(21);
        var at = Separator(span);
        value.TryFormat(span[at..], out var written, default, CultureInfo.InvariantCulture);
        output.Advance(at + written);
        _comma = true;
    }

    public void Null()
    {
        var span = output.GetSpan(5);
        var at = Separator(span);
        "null"u8.CopyTo(span[at..]);
        output.Advance(at + 4);
        _comma = true;
    }

    /// <summary>
    /// A timestamp in ISO 8601 with its offset and without trailing zeros in the fraction
    /// (<c>2025-03-01T08:00:00.5+00:00</c>), the form System.Text.Json writes and reads.
    /// </summary>
    public void Timestamp(DateTimeOffset value)
    {
        Span<byte> text = stackalloc byte[40];
        value.TryFormat(text, out var length, "O", CultureInfo.InvariantCulture);
        // "yyyy-MM-ddTHH:mm:ss.fffffff+hh:mm": the fraction is the 7 digits after position 19.
        var fractionEnd = 27;
        var end = fractionEnd;
        while (end > 20 && text[end - 1] == (byte)'0')
        {
            end--;
        }
        if (end == 20)
        {
            end = 19; // no fraction at all: drop the point too
        }
        text[fractionEnd..length].CopyTo(text[end..]);
        QuotedAscii(text[..(end + length - fractionEnd)]);
    }

    /// <summary>Escapes <paramref name="text"/> (UTF-8) into <paramref name="destination"/>; returns the bytes written.</summary>
    private static int Escape(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        var at = 0;
        foreach (var b in text)
        {
            switch (b)
            {
                case (byte)'"':
                case (byte)'\\':
                    destination[at++] = (byte)'\\';
                    destination[at++] = b;
                    break;
                case (byte)'\n':
                    destination[at++] = (byte)'\\';
                    destination[at++] = (byte)'n';
                    break;
                case (byte)'\r':
                    destination[at++] = (byte)'\\';
                    destination[at++] = (byte)'r';
                    break;
                case (byte)'\t':
                    destination[at++] = (byte)'\\';
                    destination[at++] = (byte)'t';
                    break;
                case < 0x20:
                    "\\u00"u8.CopyTo(destination[at..]);
                    destination[at + 4] = (byte)"0123456789abcdef"[b >> 4];
                    destination[at + 5] = (byte)"0123456789abcdef"[b & 0xF];
                    at += 6;
                    break;
                default:
                    destination[at++] = b;
                    break;
            }
        }
        return at;
    }

    private void Open(byte bracket)
    {
        var span = output.GetSpan(2);
        var at = Separator(span);
        span[at] = bracket;
        output.Advance(at + 1);
        _comma = false;
    }

    private void Close(byte bracket)
    {
        output.GetSpan(1)[0] = bracket;
        output.Advance(1);
        _comma = true;
    }

    /// <summary>Writes the comma a value needs after another into <paramref name="span"/> (reserved by the caller); returns its length.</summary>
    private int Separator(Span<byte> span)
    {
        if (!_comma)
        {
            return 0;
        }
        span[0] = (byte)',';
        return 1;
    }
}

/// <summary>A JSON member name, encoded once with its quotes and colon: <c>"name":</c>.</summary>
internal readonly struct JsonName
{
    private readonly byte[] _utf8;

    public JsonName(string name)
    {
        var buffer = new ArrayBufferWriter<byte>(name.Length + 8);
        new JsonLine(buffer).String(name);
        buffer.Write(":"u8);
        _utf8 = buffer.WrittenSpan.ToArray();
    }

    public ReadOnlySpan<byte> Utf8 => _utf8;
}

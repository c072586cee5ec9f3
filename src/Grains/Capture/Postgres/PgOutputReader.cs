using System.Buffers.Binary;
using System.Text;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// Reads one pgoutput message (protocol version 1, text values) from its bytes, synchronously and without copying
/// anything but the values it returns. The layout is PostgreSQL's "Logical Replication Message Formats": big-endian
/// integers, NUL-terminated names, tuples as a column count followed by a kind byte per column
/// (<c>n</c> null, <c>u</c> unchanged TOAST value, <c>t</c> text with a 32-bit length).
/// </summary>
internal ref struct PgOutputReader(ReadOnlySpan<byte> data)
{
    /// <summary>Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).</summary>
    private const long PostgresEpochMicros = 946_684_800_000_000;

    private readonly ReadOnlySpan<byte> _data = data;
    private int _offset;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool AtEnd => _offset == _data.Length;

    public byte ReadByte() => _data[_offset++];

    public short ReadInt16()
    {
        var value = BinaryPrimitives.ReadInt16BigEndian(_data[_offset..]);
        _offset += 2;
        return value;
    }

    public int ReadInt32()
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(_data[_offset..]);
        _offset += 4;
        return value;
    }

    public uint ReadUInt32() => (uint)ReadInt32();

    public ulong ReadUInt64()
    {
        var value = BinaryPrimitives.ReadUInt64BigEndian(_data[_offset..]);
        _offset += 8;
        return value;
    }

    /// <summary>A timestamp sent as microseconds since 2000-01-01 UTC.</summary>
    public DateTimeOffset ReadTimestamp() =>
        DateTimeOffset.UnixEpoch.AddTicks(((long)ReadUInt64() + PostgresEpochMicros) * TimeSpan.TicksPerMicrosecond);

    /// <summary>A NUL-terminated UTF-8 string.</summary>
    public string ReadCString()
    {
        var length = _data[_offset..].IndexOf((byte)0);
        if (length < 0)
        {
            throw new InvalidDataException("pgoutput: a name is not NUL-terminated");
        }
        var text = Encoding.UTF8.GetString(_data.Slice(_offset, length));
        _offset += length + 1;
        return text;
    }

    /// <summary>The bytes of a length-prefixed value.</summary>
    public ReadOnlySpan<byte> ReadBytes(int length)
    {
        var bytes = _data.Slice(_offset, length);
        _offset += length;
        return bytes;
    }

    /// <summary>The rest of the message.</summary>
    public ReadOnlySpan<byte> ReadRest()
    {
        var rest = _data[_offset..];
        _offset = _data.Length;
        return rest;
    }

    /// <summary>
    /// Reads a tuple into a row of <paramref name="width"/> columns. Unchanged TOAST values are taken from
    /// <paramref name="previous"/> (a full old row) when there is one; otherwise their indexes are returned so the
    /// event marks them as unchanged instead of inventing a value.
    /// </summary>
    public (string?[] Row, List<int>? Unchanged) ReadTuple(int width, string?[]? previous)
    {
        var count = ReadInt16();
        if (count > width)
        {
            throw new InvalidDataException($"pgoutput: a tuple has {count} columns, its relation {width}");
        }
        var row = new string?[width];
        List<int>? unchanged = null;
        for (var i = 0; i < count; i++)
        {
            switch ((char)ReadByte())
            {
                case 'n':
                    break;
                case 'u':
                    if (previous is not null)
                    {
                        row[i] = previous[i];
                    }
                    else
                    {
                        (unchanged ??= []).Add(i);
                    }
                    break;
                case 't':
                    row[i] = Encoding.UTF8.GetString(ReadBytes(ReadInt32()));
                    break;
                case var kind:
                    throw new InvalidDataException($"pgoutput: column {i} has the value kind '{kind}', only text values are requested");
            }
        }
        return (row, unchanged);
    }
}

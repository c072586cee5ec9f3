using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// Avro's binary encoding, written by hand: Iceberg manifests and manifest lists need only a handful of types, and a
/// general Avro library would have to be kept from re-emitting repeated named types by reference (icebird cannot
/// follow references) and from choosing codecs icebird cannot decode.
/// </summary>
public sealed class AvroEncoder
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    /// <summary>Everything written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    /// <summary>
    /// A long as a zig-zag variable-length integer: small magnitudes of either sign take one byte, which is why Avro
    /// uses it for every count and length too.
    /// </summary>
    public void WriteLong(long value)
    {
        var zigZag = (ulong)((value << 1) ^ (value >> 63));
        var span = _buffer.GetSpan(10);
        var length = 0;
        while (zigZag >= 0x80)
        {
            span[length++] = (byte)(zigZag | 0x80);
            zigZag >>= 7;
        }
        span[length++] = (byte)zigZag;
        _buffer.Advance(length);
    }

    /// <summary>An int: Avro encodes it exactly like a long.</summary>
    public void WriteInt(int value) => WriteLong(value);

    /// <summary>A boolean as one byte, 0 or 1.</summary>
    public void WriteBoolean(bool value) => WriteRaw([value ? (byte)1 : (byte)0]);

    /// <summary>A float as 4 little-endian bytes.</summary>
    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    /// <summary>A double as 8 little-endian bytes.</summary>
    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    /// <summary>Bytes, prefixed by their length.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        WriteRaw(value);
    }

    /// <summary>A string as UTF-8 bytes, prefixed by their length.</summary>
    public void WriteString(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteLong(length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    /// <summary>
    /// Which branch of a union the next value belongs to (its zero-based index in the schema's union); a
    /// <c>null</c> branch is followed by nothing.
    /// </summary>
    public void WriteUnionBranch(int index) => WriteLong(index);

    /// <summary>
    /// An array as a single block (count, then the items) closed by an empty block; an empty array is the empty
    /// block alone.
    /// </summary>
    public void WriteArray<T>(IReadOnlyCollection<T> items, Action<AvroEncoder, T> writeItem)
    {
        if (items.Count > 0)
        {
            WriteLong(items.Count);
            foreach (var item in items)
            {
                writeItem(this, item);
            }
        }
        WriteLong(0);
    }

    /// <summary>Bytes as they are, without a length (the container's magic, sync markers and data blocks).</summary>
    public void WriteRaw(ReadOnlySpan<byte> value) => _buffer.Write(value);
}

/// <summary>Reads Avro's binary encoding (the counterpart of <see cref="AvroEncoder"/>) from a byte range.</summary>
public sealed class AvroDecoder(ReadOnlyMemory<byte> data)
{
    private int _position;

    /// <summary>True once every byte has been read.</summary>
    public bool AtEnd => _position >= data.Length;

    /// <summary>How many bytes have been read.</summary>
    public int Position => _position;

    /// <summary>A zig-zag variable-length long.</summary>
    public long ReadLong()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadRaw(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)(value >> 1) ^ -(long)(value & 1);
            }
        }
        throw new InvalidDataException("Avro varint longer than 10 bytes");
    }

    /// <summary>An int (encoded like a long); a value outside the int range means the data is not what the schema says.</summary>
    public int ReadInt()
    {
        var value = ReadLong();
        return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new InvalidDataException($"Avro int out of range: {value}");
    }

    /// <summary>A boolean byte.</summary>
    public bool ReadBoolean() => ReadRaw(1)[0] != 0;

    /// <summary>A little-endian float.</summary>
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(ReadRaw(4));

    /// <summary>A little-endian double.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadRaw(8));

    /// <summary>Length-prefixed bytes.</summary>
    public byte[] ReadBytes() => ReadRaw(ReadLength()).ToArray();

    /// <summary>A length-prefixed UTF-8 string.</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadRaw(ReadLength()));

    /// <summary>
    /// The item count of the next array or map block: 0 ends the value. A negative count (allowed by Avro) is
    /// followed by the block's size in bytes, which a sequential reader does not need.
    /// </summary>
    public long ReadBlockCount()
    {
        var count = ReadLong();
        if (count < 0)
        {
            ReadLong();
            count = -count;
        }
        return count;
    }

    /// <summary><paramref name="length"/> bytes as they are.</summary>
    public ReadOnlySpan<byte> ReadRaw(int length)
    {
        if (length < 0 || length > data.Length - _position)
        {
            throw new InvalidDataException($"Avro data ends early: {length} bytes wanted at offset {_position} of {data.Length}");
        }
        var span = data.Span.Slice(_position, length);
        _position += length;
        return span;
    }

    private int ReadLength()
    {
        var length = ReadLong();
        return length is >= 0 and <= int.MaxValue ? (int)length : throw new InvalidDataException($"Avro length out of range: {length}");
    }
}

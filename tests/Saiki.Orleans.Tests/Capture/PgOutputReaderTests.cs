using System.Buffers.Binary;
using System.Text;
using Saiki.Orleans.Capture.Postgres;

namespace Saiki.Orleans.Tests.Capture;

/// <summary>
/// The pgoutput byte layout the capture decodes (the end-to-end capture tests run it against PostgreSQL itself); here
/// the cases a server rarely sends: unchanged TOAST values with and without an old row, and malformed messages.
/// </summary>
public sealed class PgOutputReaderTests
{
    [Fact]
    public void Tuple_DecodesTextNullsAndUnchangedToast()
    {
        var tuple = Tuple(4, Text("héllo"), [(byte)'n'], [(byte)'u'], Text(""));

        var (row, unchanged) = new PgOutputReader(tuple).ReadTuple(4, null);
        Assert.Equal((IEnumerable<string?>)["héllo", null, null, ""], row);
        Assert.Equal([2], unchanged);

        // With a full old row (REPLICA IDENTITY FULL) the unchanged value is taken from it.
        (row, unchanged) = new PgOutputReader(tuple).ReadTuple(4, ["old", "x", "big toasted value", "y"]);
        Assert.Equal((IEnumerable<string?>)["héllo", null, "big toasted value", ""], row);
        Assert.Null(unchanged);
    }

    [Fact]
    public void Tuple_WithMoreColumnsThanItsRelation_IsRefusedWithBothCounts()
    {
        var e = Assert.Throws<InvalidDataException>(() => new PgOutputReader(Tuple(3, Text("1"), Text("2"), Text("3"))).ReadTuple(2, null));
        Assert.Contains("3 columns, its relation 2", e.Message);
    }

    [Fact]
    public void BinaryValue_IsRefusedNamingTheColumn()
    {
        var e = Assert.Throws<InvalidDataException>(() => new PgOutputReader(Tuple(2, Text("1"), [(byte)'b', 0, 0, 0, 0])).ReadTuple(2, null));
        Assert.Contains("column 1", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void NamesAndTimestamps_UseTheProtocolEncoding()
    {
        var bytes = new byte[8 + 7];
        BinaryPrimitives.WriteInt64BigEndian(bytes, 86_400_000_000 + 1); // one day and 1 µs after 2000-01-01
        "public\0"u8.CopyTo(bytes.AsSpan(8));
        var reader = new PgOutputReader(bytes);
        Assert.Equal(new DateTimeOffset(2000, 1, 2, 0, 0, 0, TimeSpan.Zero).AddTicks(10), reader.ReadTimestamp());
        Assert.Equal("public", reader.ReadCString());
        Assert.True(reader.AtEnd);

        var e = Assert.Throws<InvalidDataException>(() => new PgOutputReader("public"u8.ToArray()).ReadCString());
        Assert.Contains("not NUL-terminated", e.Message);
    }

    private static byte[] Tuple(short count, params byte[][] columns)
    {
        var bytes = new List<byte> { (byte)(count >> 8), (byte)count };
        foreach (var column in columns)
        {
            bytes.AddRange(column);
        }
        return [.. bytes];
    }

    private static byte[] Text(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        var bytes = new byte[5 + utf8.Length];
        bytes[0] = (byte)'t';
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), utf8.Length);
        utf8.CopyTo(bytes, 5);
        return bytes;
    }
}

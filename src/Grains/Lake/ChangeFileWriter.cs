using System.Buffers;
using System.IO.Compression;
using System.Text.Json;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// Builds one lake file change by change, compressing as it goes, so a large file (a snapshot chunk) never
/// exists uncompressed in memory. The format is described on <see cref="ChangeFile"/>.
/// </summary>
public sealed class ChangeFileWriter : IDisposable
{
    private const int FlushThreshold = 1 << 15;
    private readonly PartitionAddress _partition;
    private readonly MemoryStream _output = new();
    private readonly GZipStream _gzip;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _json;

    /// <summary>Starts a file for <paramref name="partition"/>.</summary>
    public ChangeFileWriter(PartitionAddress partition)
    {
        _partition = partition;
        _gzip = new GZipStream(_output, CompressionLevel.Fastest, leaveOpen: true);
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Changes written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one change as one line.</summary>
    public void Add(TableSchema schema, ChangeEvent change)
    {
        ChangeFile.WriteLine(_json, _partition, schema, change);
        _json.Flush();
        _json.Reset();
        _buffer.Write("\n"u8);
        Count++;
        if (_buffer.WrittenCount > FlushThreshold)
        {
            _gzip.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
    }

    /// <summary>Completes the file and returns its bytes.</summary>
    public byte[] Finish()
    {
        _gzip.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        _gzip.Dispose();
        return _output.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _json.Dispose();
        _gzip.Dispose();
        _output.Dispose();
    }
}

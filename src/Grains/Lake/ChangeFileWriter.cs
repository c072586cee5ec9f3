using System.Buffers;
using System.IO.Compression;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// Builds one lake file change by change in the table's <see cref="LakeFormat"/>. Formats are described on
/// <see cref="ChangeFile"/> (JSON Lines) and <see cref="ParquetChangeFile"/> (Parquet).
/// </summary>
public abstract class ChangeFileWriter : IDisposable
{
    /// <summary>Starts a file of <paramref name="partition"/> whose changes have <paramref name="schema"/>.</summary>
    public static ChangeFileWriter Create(LakeFormat format, PartitionAddress partition, TableSchema schema) => format switch
    {
        LakeFormat.JsonLines => new JsonLinesWriter(partition),
        LakeFormat.Parquet => new ParquetChangeFile.Writer(partition, schema),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown lake format"),
    };

    /// <summary>Changes written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one change.</summary>
    public void Add(TableSchema schema, ChangeEvent change)
    {
        Append(schema, change);
        Count++;
    }

    /// <summary>Completes the file and returns its bytes.</summary>
    public abstract Task<byte[]> FinishAsync(CancellationToken cancellationToken = default);

    /// <summary>Encodes one change.</summary>
    protected abstract void Append(TableSchema schema, ChangeEvent change);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the encoder.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>gzip JSON Lines, compressed as it goes, so a large file (a snapshot chunk) never exists uncompressed in memory.</summary>
    internal sealed class JsonLinesWriter : ChangeFileWriter
    {
        private const int FlushThreshold = 1 << 15;
        private readonly PartitionAddress _partition;
        private readonly MemoryStream _output = new();
        private readonly GZipStream _gzip;
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
        private readonly JsonLine _json;
        private readonly ChangeFile.OriginCache _origins = new();

        public JsonLinesWriter(PartitionAddress partition)
        {
            _partition = partition;
            _gzip = new GZipStream(_output, CompressionLevel.Fastest, leaveOpen: true);
            _json = new JsonLine(_buffer);
        }

        protected override void Append(TableSchema schema, ChangeEvent change)
        {
            ChangeFile.WriteLine(_json, _partition, schema, change, _origins);
            _json.Reset();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            if (_buffer.WrittenCount > FlushThreshold)
            {
                _gzip.Write(_buffer.WrittenSpan);
                _buffer.ResetWrittenCount();
            }
        }

        public byte[] Finish()
        {
            _gzip.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
            _gzip.Dispose();
            return _output.ToArray();
        }

        public override Task<byte[]> FinishAsync(CancellationToken cancellationToken = default) => Task.FromResult(Finish());

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _gzip.Dispose();
                _output.Dispose();
            }
        }
    }
}

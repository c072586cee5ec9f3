using Saiki.Orleans.Changes;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Lake;
using Orleans;

namespace Saiki.Orleans.Capture.Snapshot;

/// <summary>
/// One snapshot chunk's rows on their way to the lake: collected into one file of the table's format (and onto
/// the table's Kafka topic), then written with its schema and its snapshot manifest entry, so a chunk read again
/// replaces its file whole. Snapshot files are filed under partition -1; readers route their rows by key. On an
/// Iceberg table the chunk is a changelog data file, handed to the table's committer once its manifest entry is written.
/// </summary>
public sealed class SnapshotFile : IDisposable
{
    private readonly ILakeStore _store;
    private readonly LakeLayout _layout;
    private readonly LakeFormat _format;
    private readonly PartitionAddress _address;
    private readonly TableSchema _schema;
    private readonly ChangeFileWriter? _file;
    private readonly Lake.Iceberg.ChangelogFile.Writer? _changelog;
    private readonly ILakeTableGrain? _committer;
    private readonly KafkaBatch? _bus;

    private SnapshotFile(ILakeStore store, LakeLayout layout, KafkaPublisher kafka, LakeFormat format, string sourceId, string table, TableSchema schema,
        ILakeTableGrain? committer, IcebergColumns? columns)
    {
        _store = store;
        _layout = layout;
        _format = format;
        _schema = schema;
        _address = new PartitionAddress(sourceId, table, -1);
        if (committer is not null)
        {
            _committer = committer;
            _changelog = new Lake.Iceberg.ChangelogFile.Writer(columns!, schema);
        }
        else
        {
            _file = ChangeFileWriter.Create(format, _address, schema);
        }
        _bus = kafka.Begin(_address);
    }

    /// <summary>
    /// Starts a chunk file of a table whose rows are at <paramref name="position"/>; on an Iceberg table
    /// <paramref name="grains"/> reaches the table's committer, which gives the columns their field ids.
    /// </summary>
    public static async Task<SnapshotFile> CreateAsync(ILakeStore store, LakeLayout layout, KafkaPublisher kafka, LakeFormat format, string sourceId, string table,
        TableSchema schema, Position position, IGrainFactory grains)
    {
        if (format != LakeFormat.Iceberg)
        {
            return new SnapshotFile(store, layout, kafka, format, sourceId, table, schema, null, null);
        }
        var committer = grains.GetGrain<ILakeTableGrain>($"{sourceId}|{table}");
        return new SnapshotFile(store, layout, kafka, format, sourceId, table, schema, committer, await committer.ColumnsAsync(schema, position));
    }

    /// <summary>Rows added so far.</summary>
    public int Count => _file?.Count ?? (int)_changelog!.Count;

    /// <summary>Adds a snapshot row.</summary>
    public async ValueTask AddAsync(ChangeEvent change)
    {
        _file?.Add(_schema, change);
        if (_changelog is not null)
        {
            await _changelog.AddAsync(change);
        }
        _bus?.Add(_schema, change);
    }

    /// <summary>Writes the file, publishes to Kafka, then the schema and the manifest entry of chunk <paramref name="chunk"/>.</summary>
    public async Task CompleteAsync(int chunk, Position position, DateTimeOffset snapshotTime, CancellationToken ct)
    {
        byte[] content;
        Lake.Iceberg.IcebergFileMetrics? metrics = null;
        if (_committer is not null)
        {
            if (_changelog!.Count == 0)
            {
                // An empty chunk adds no rows, and Iceberg has no empty data files: only its manifest entry records it.
                content = [];
            }
            else
            {
                (content, metrics) = await _changelog.FinishAsync();
            }
        }
        else
        {
            content = await _file!.FinishAsync(ct);
        }
        var key = _layout.SnapshotDataKey(_address.SourceId, _address.Table, chunk, _format);
        await _store.PutAsync(key, content, ct);
        if (_bus is not null)
        {
            await DeadLetters.WriteAsync(_store, _layout, await _bus.CompleteAsync(ct), ct);
        }
        var manifest = new Manifest(_store, _layout);
        await manifest.AddSchemaAsync(_address.SourceId, _schema, ct);
        var entry = new ManifestEntry(
            key, _address.SourceId, _address.Table, -1, Count, content.Length, position, position, snapshotTime, snapshotTime, DateTimeOffset.UtcNow,
            _schema.Version, _format);
        await manifest.AddSnapshotChunkAsync(chunk, entry, ct);
        if (metrics is not null)
        {
            await _committer!.HandOverAsync([metrics.FileOf(entry)]);
        }
        SaikiMetrics.RowsWritten.Add(Count);
        SaikiMetrics.FilesWritten.Add(1);
        SaikiMetrics.BytesWritten.Add(content.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _file?.Dispose();
        _changelog?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

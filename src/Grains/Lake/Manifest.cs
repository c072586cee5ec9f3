using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>Reads and writes manifest entries: one small JSON object per data file, next to the data.</summary>
public sealed class Manifest(ILakeStore store, LakeLayout layout)
{
    private readonly HashSet<string> _schemasWritten = new(StringComparer.Ordinal);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new PositionJsonConverter() },
    };

    /// <summary>Records a data file. Written after the data file, so an entry always names existing data.</summary>
    public Task AddAsync(PartitionAddress partition, ManifestEntry entry, CancellationToken cancellationToken = default) =>
        store.PutAsync(layout.ManifestKey(partition, entry.Last), JsonSerializer.SerializeToUtf8Bytes(entry, Json), cancellationToken);

    /// <summary>The entry of one partition's file ending at <paramref name="last"/>, or null when there is none.</summary>
    public async Task<ManifestEntry?> GetAsync(PartitionAddress partition, Position last, CancellationToken cancellationToken = default) =>
        await store.GetAsync(layout.ManifestKey(partition, last), cancellationToken) is { Length: > 0 } bytes ? JsonSerializer.Deserialize<ManifestEntry>(bytes, Json) : null;

    /// <summary>Records a schema version (once per version and instance; rewriting it is harmless, the key is the version).</summary>
    public async Task AddSchemaAsync(string sourceId, TableSchema schema, CancellationToken cancellationToken = default)
    {
        if (_schemasWritten.Add(schema.Version))
        {
            await store.PutAsync(layout.SchemaKey(sourceId, schema.Table, schema.Version), JsonSerializer.SerializeToUtf8Bytes(schema, Json), cancellationToken);
        }
    }

    /// <summary>Every schema version a table has had in the lake.</summary>
    public async IAsyncEnumerable<TableSchema> ListSchemasAsync(string sourceId, string table, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var key in store.ListAsync(layout.SchemaPrefix(sourceId, table), null, cancellationToken))
        {
            if (await store.GetAsync(key, cancellationToken) is { Length: > 0 } bytes)
            {
                yield return JsonSerializer.Deserialize<TableSchema>(bytes, Json) ?? throw new InvalidDataException($"schema {key} is empty");
            }
        }
    }

    /// <summary>Records an initial-snapshot chunk file.</summary>
    public Task AddSnapshotChunkAsync(int chunk, ManifestEntry entry, CancellationToken cancellationToken = default) =>
        store.PutAsync(layout.SnapshotManifestKey(entry.Source, entry.Table, chunk), JsonSerializer.SerializeToUtf8Bytes(entry, Json), cancellationToken);

    /// <summary>Entries of one partition, in position order, optionally only those ending after <paramref name="after"/>.</summary>
    public async IAsyncEnumerable<ManifestEntry> ListAsync(PartitionAddress partition, Position? after = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var startAfter = after is { } a ? layout.ManifestKey(partition, a) : null;
        await foreach (var entry in ReadAllAsync(layout.ManifestPrefix(partition), startAfter, cancellationToken))
        {
            yield return entry;
        }
    }

    /// <summary>The entries of a table's snapshot chunks.</summary>
    public IAsyncEnumerable<ManifestEntry> ListSnapshotChunksAsync(string sourceId, string table, CancellationToken cancellationToken = default) =>
        ReadAllAsync(layout.TableManifestPrefix(sourceId, table) + "snapshot/", null, cancellationToken);

    /// <summary>Every entry of a table, all partitions.</summary>
    public IAsyncEnumerable<ManifestEntry> ListTableAsync(string sourceId, string table, CancellationToken cancellationToken = default) =>
        ReadAllAsync(layout.TableManifestPrefix(sourceId, table), null, cancellationToken);

    private async IAsyncEnumerable<ManifestEntry> ReadAllAsync(string prefix, string? startAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var key in store.ListAsync(prefix, startAfter, cancellationToken))
        {
            // A zero-byte object is an upload the store cut short (s3rver keeps those when the connection drops; S3
            // never stores a partial object): not written, so the writer's retry writes it again under the same key.
            var bytes = await store.GetAsync(key, cancellationToken);
            if (bytes is { Length: > 0 })
            {
                yield return JsonSerializer.Deserialize<ManifestEntry>(bytes, Json)
                    ?? throw new InvalidDataException($"manifest entry {key} is empty");
            }
        }
    }

    /// <summary>Publishes a table's "complete up to T" as a small object, for warehouses working from the object store alone.</summary>
    public Task WriteCompletenessAsync(string sourceId, string table, DateTimeOffset complete, CancellationToken cancellationToken = default) =>
        store.PutAsync(layout.CompletenessKey(sourceId, table),
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { source = sourceId, table, complete_up_to = complete }), cancellationToken);
}

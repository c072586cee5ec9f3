using System.Globalization;
using System.Text.Json;
using Orleans;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Lake.Iceberg;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// The append-only Iceberg table of a stream of business events: the event type's (<c>_events/{type}</c>, committer
/// <c>_events|{type}</c>) or a Kafka source's (<c>_kafka/{source}/events</c>, committer <c>_kafka/{source}|events</c>).
/// Its files are changelog files (<see cref="ChangelogFile"/>: the metadata columns, <c>__op</c> always <c>c</c>,
/// <c>__lsn</c> the write's sequence number, <c>__seq</c> the event's index in it, <c>__commit_time</c> when Saiki
/// wrote it) of the columns <see cref="EventColumns"/> gives. Each write is one file, <c>data/{sequence}.parquet</c>,
/// handed to the table's committer: once the hand-over returns the events are durable. A writer that died after a
/// hand-over and before saving its own sequence finds the sequences the table holds beyond it with
/// <see cref="RecoverAsync"/>, and their event ids, so it neither writes them again nor reuses their keys.
/// </summary>
public sealed class EventTable
{
    private readonly IGrainFactory _grains;
    private readonly ILakeStore _store;
    private readonly LakeLayout _layout;
    private readonly ILakeTableGrain _committer;
    private readonly string _path;
    private readonly Dictionary<string, IcebergColumns> _columns = [];

    private EventTable(IGrainFactory grains, ILakeStore store, LakeLayout layout, EventTableName name)
    {
        (_grains, _store, _layout, _path, Name) = (grains, store, layout, $"{name.Source}/{name.Table}", name);
        _committer = grains.GetGrain<ILakeTableGrain>(CommitterKey(name.Source, name.Table));
    }

    /// <summary>The event table of events posted for <paramref name="eventType"/>.</summary>
    public static EventTable Posted(IGrainFactory grains, ILakeStore store, LakeLayout layout, string eventType) =>
        new(grains, store, layout, new EventTableName(PostedSource, eventType, PostedSource, eventType));

    /// <summary>The event table of a Kafka source's cleansed events.</summary>
    public static EventTable Kafka(IGrainFactory grains, ILakeStore store, LakeLayout layout, string source) =>
        new(grains, store, layout, new EventTableName(KafkaSource(source), KafkaTable, KafkaNamespace, source));

    /// <summary>Its names: the committer's key parts and the catalog's namespace and table name.</summary>
    public EventTableName Name { get; }

    /// <summary>Lists the table in the REST catalog.</summary>
    public Task ListAsync() => _grains.GetGrain<IEventTablesGrain>(0).AddAsync(Name);

    /// <summary>Takes the table out of the REST catalog (its files stay).</summary>
    public Task UnlistAsync() => _grains.GetGrain<IEventTablesGrain>(0).RemoveAsync(Name);

    /// <summary>Catalog namespace of the Kafka sources' event tables.</summary>
    public const string KafkaNamespace = "_kafka";

    /// <summary>Source part of every posted event type's committer key.</summary>
    public const string PostedSource = "_events";

    /// <summary>Table part of a Kafka source's committer key.</summary>
    public const string KafkaTable = "events";

    /// <summary>Source part of a Kafka source's committer key.</summary>
    public static string KafkaSource(string source) => $"_kafka/{source}";

    /// <summary>The committer's key of an event table.</summary>
    public static string CommitterKey(string source, string table) => $"{source}|{table}";

    /// <summary>The key of the file of write <paramref name="sequence"/>.</summary>
    public string DataKey(long sequence) => _layout.Key($"{_path}/data/{sequence:D12}.parquet");

    /// <summary>Writes the events of write <paramref name="sequence"/> (in order, rows of <paramref name="schema"/>) as one
    /// file and hands it over; durable when this returns. <paramref name="now"/> is the rows' write time: a retry of the
    /// same sequence with the same rows and time writes the same bytes under the same key.</summary>
    public async Task WriteAsync(TableSchema schema, long sequence, IReadOnlyList<string?[]> rows, DateTimeOffset now, CancellationToken ct = default)
    {
        var run = new (TableSchema, ChangeEvent)[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            run[i] = (schema, new ChangeEvent(ChangeOperation.Insert, new Position((ulong)sequence, (uint)i), now, null, rows[i]));
        }
        var first = run[0].Item2.Position;
        if (!_columns.TryGetValue(schema.Version, out var columns))
        {
            _columns[schema.Version] = columns = await _committer.ColumnsAsync(schema, first);
        }
        var (content, metrics) = await ChangelogFile.WriteAsync(columns, run);
        var key = DataKey(sequence);
        await _store.PutAsync(key, content, ct);
        var entry = new ManifestEntry(key, Name.Source, Name.Table, 0, rows.Count, content.Length, first, run[^1].Item2.Position, now, now, now, schema.Version, LakeFormat.Iceberg);
        await _committer.HandOverAsync([metrics.FileOf(entry)]);
    }

    /// <summary>The key of the writer's saved dedup window as of write <paramref name="sequence"/>.</summary>
    public string EidSnapshotKey(long sequence) => _layout.Key($"{_path}/eids/{sequence:D12}.txt.gz");

    /// <summary>
    /// Whether a writer saves its window now: once the events written since the last save reach an eighth of the
    /// window, or 1,024 writes passed. Saving costs the window's size, so per event it costs at most eight ids'
    /// worth; loading reads one saved window and at most 1,024 files.
    /// </summary>
    public static bool SnapshotDue(int capacity, long eventsSince, long writesSince) => eventsSince * 8 >= capacity || writesSince >= 1024;

    /// <summary>Saves a writer's dedup window (oldest first) as of write <paramref name="sequence"/>.</summary>
    public async Task SaveEidsAsync(long sequence, IReadOnlyList<string> eids, CancellationToken ct = default)
    {
        using var buffer = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        await using (var text = new StreamWriter(gzip))
        {
            foreach (var eid in eids)
            {
                await text.WriteAsync(eid);
                await text.WriteAsync('\n');
            }
        }
        await _store.PutAsync(EidSnapshotKey(sequence), buffer.ToArray(), ct);
    }

    /// <summary>
    /// A writer's dedup window as it stood after write <paramref name="written"/>: the ids saved at write
    /// <paramref name="snapshot"/> (0: none), then those of every file written after it, the newest
    /// <paramref name="capacity"/> of them, oldest first. The table's files are the record; nothing else is kept per write.
    /// </summary>
    public async Task<List<string>> LoadEidsAsync(long snapshot, long written, int capacity, CancellationToken ct = default)
    {
        var eids = new List<string>();
        if (snapshot > 0)
        {
            var saved = await _store.GetAsync(EidSnapshotKey(snapshot), ct)
                ?? throw new InvalidDataException($"the saved event ids {EidSnapshotKey(snapshot)} of {Name.Source}/{Name.Table} are missing");
            using var text = new StreamReader(new System.IO.Compression.GZipStream(new MemoryStream(saved), System.IO.Compression.CompressionMode.Decompress));
            while (await text.ReadLineAsync(ct) is { Length: > 0 } eid)
            {
                eids.Add(eid);
            }
        }
        await AddEidsAsync(snapshot + 1, written, eids, ct);
        return eids.Count > capacity ? eids.GetRange(eids.Count - capacity, capacity) : eids;
    }

    /// <summary>Deletes a window saved before the current one; false when that failed (a leftover is only clutter).</summary>
    public async Task<bool> DeleteEidsAsync(long sequence)
    {
        try
        {
            await _store.DeleteAsync(EidSnapshotKey(sequence));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>
    /// The writes after <paramref name="saved"/> (the writer's saved sequence) that the table holds already: the last
    /// such sequence and the event ids and count of the events in them. (<paramref name="saved"/>, [], 0) when none.
    /// </summary>
    public async Task<(long Sequence, List<string> Eids, long Events)> RecoverAsync(long saved, CancellationToken ct = default)
    {
        var held = await _committer.HeldAsync(0);
        var eids = new List<string>();
        if (held is not { } last || (long)last.Commit <= saved)
        {
            return (saved, eids, 0);
        }
        await AddEidsAsync(saved + 1, (long)last.Commit, eids, ct);
        return ((long)last.Commit, eids, eids.Count);
    }

    /// <summary>Adds the event ids of writes <paramref name="from"/> to <paramref name="to"/> (those with a file), in order.</summary>
    private async Task AddEidsAsync(long from, long to, List<string> eids, CancellationToken ct)
    {
        for (var sequence = from; sequence <= to; sequence++)
        {
            if (await _store.GetAsync(DataKey(sequence), ct) is { } content)
            {
                eids.AddRange((await ChangelogFile.ReadKeysAsync(content)).Select(k => ChangelogFile.KeyValues(k.Key!)[0]!));
            }
        }
    }
}

/// <summary>
/// The columns of an event table. Every event table starts with <c>eid</c> (uuid, normalised), <c>occurred_at</c>
/// (timestamptz) and ends with <c>event</c> (the whole event as JSON text: nothing is lost, whatever the typed columns
/// hold). In between:
/// <list type="bullet">
/// <item>a posted event type: one column per top-level property of its JSON Schema (except <c>metadata</c> and the
/// names above), typed by the property's <c>type</c> (with <c>null</c> left out): <c>string</c> → string (uuid, date
/// or timestamptz for the formats <c>uuid</c>, <c>date</c>, <c>date-time</c>), <c>integer</c> → long, <c>number</c> →
/// double, <c>boolean</c> → boolean, anything else (objects, arrays, several types, no type) → string of its JSON.
/// A value that does not fit its column (an integer beyond a long, a string that is not a date) is null there; the
/// <c>event</c> column has it. A later schema version adds, drops or retypes columns by the lake's schema evolution
/// rules.</item>
/// <item>a Kafka source: <c>kafka_partition</c> (int) and <c>kafka_offset</c> (long) of the message.</item>
/// </list>
/// </summary>
public static class EventColumns
{
    private static readonly string[] Fixed = ["eid", "occurred_at", "event", "kafka_partition", "kafka_offset"];

    /// <summary>The table schema of a posted event type whose JSON Schema is <paramref name="jsonSchema"/>.</summary>
    public static TableSchema Posted(string eventType, string jsonSchema)
    {
        var columns = new List<ColumnSchema> { new("eid", "uuid"), new("occurred_at", "timestamp with time zone") };
        using var document = JsonDocument.Parse(jsonSchema);
        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("properties", out var properties)
            && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (property.Name != "metadata" && !Fixed.Contains(property.Name))
                {
                    columns.Add(new ColumnSchema(property.Name, TypeOf(property.Value)));
                }
            }
        }
        columns.Add(new ColumnSchema("event", "jsonb"));
        return new TableSchema(eventType, columns, [0]);
    }

    /// <summary>The table schema of a Kafka source's events.</summary>
    public static TableSchema Kafka(string source) => new(source,
        [new("eid", "uuid"), new("occurred_at", "timestamp with time zone"), new("kafka_partition", "integer"), new("kafka_offset", "bigint"), new("event", "jsonb")], [0]);

    /// <summary>A posted event's row: its values in the text form of <paramref name="schema"/>'s column types.</summary>
    public static string?[] RowOf(TableSchema schema, BusinessEvent e) => RowOf(schema, e, null, null);

    /// <summary>A Kafka event's row.</summary>
    public static string?[] RowOf(TableSchema schema, BusinessEvent e, int? partition, long? offset)
    {
        var row = new string?[schema.Columns.Count];
        using var document = JsonDocument.Parse(e.Json);
        var root = document.RootElement;
        for (var i = 0; i < row.Length; i++)
        {
            var column = schema.Columns[i];
            row[i] = column.Name switch
            {
                "eid" when i == 0 => e.Eid,
                "occurred_at" when i == 1 => Timestamp(e.OccurredAt),
                "event" when i == row.Length - 1 => e.Json,
                "kafka_partition" when partition is { } p => p.ToString(CultureInfo.InvariantCulture),
                "kafka_offset" when offset is { } o => o.ToString(CultureInfo.InvariantCulture),
                _ => root.TryGetProperty(column.Name, out var value) ? TextOf(value, column.Type) : null,
            };
        }
        return row;
    }

    private static string TypeOf(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type))
        {
            return "jsonb";
        }
        var types = type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToArray(),
            _ => Array.Empty<string>(),
        };
        var nonNull = types.Where(t => t != "null").ToArray();
        var format = schema.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        return nonNull.Length != 1 ? "jsonb" : nonNull[0] switch
        {
            "string" => format switch
            {
                "date-time" => "timestamp with time zone",
                "date" => "date",
                "uuid" => "uuid",
                _ => "text",
            },
            "integer" => "bigint",
            "number" => "double precision",
            "boolean" => "boolean",
            _ => "jsonb",
        };
    }

    /// <summary>A JSON value as the text of a column of <paramref name="type"/>; null when it does not fit.</summary>
    private static string? TextOf(JsonElement value, string type) => type switch
    {
        _ when value.ValueKind == JsonValueKind.Null => null,
        "text" => value.ValueKind == JsonValueKind.String ? value.GetString() : null,
        "bigint" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : null,
        "double precision" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : null,
        "boolean" => value.ValueKind switch { JsonValueKind.True => "t", JsonValueKind.False => "f", _ => null },
        "uuid" => value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var g) ? g.ToString("D") : null,
        "date" => value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
        "timestamp with time zone" => value.ValueKind == JsonValueKind.String && Rfc3339.TryParse(value.GetString(), out var t) ? Timestamp(t) : null,
        _ => value.GetRawText(),
    };

    /// <summary>PostgreSQL's text form of a timestamptz, in UTC, to the microsecond.</summary>
    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
}

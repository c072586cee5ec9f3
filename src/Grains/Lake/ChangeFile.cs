using System.Runtime.CompilerServices;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// The lake's JSON Lines format: gzip-compressed, one change per line:
/// <c>{"op":"u","source":"shop","table":"public.orders","lsn":"0/1A2B3C","seq":3,"pos":"…","commit_time":"…",
/// "key":{"id":"7"},"before":{…}|null,"after":{…}|null}</c>. Values are the source's text form; SQL NULL is JSON null.
/// An update that left large (TOAST) values untouched, where the source sent no old row, omits them from
/// <c>after</c> and names them in <c>"unchanged":["col",…]</c>: they keep their previous value.
/// Tables configured for Parquet get <see cref="ParquetChangeFile"/> instead; <see cref="Read"/> reads both.
/// </summary>
public static class ChangeFile
{
    /// <summary>Encodes a run of changes of one partition as gzip JSON Lines.</summary>
    public static byte[] Write(PartitionAddress partition, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> changes) =>
        // The JSON Lines writer finishes synchronously.
        WriteAsync(LakeFormat.JsonLines, partition, changes).GetAwaiter().GetResult();

    /// <summary>Encodes a run of changes of one partition, all of one schema version, in <paramref name="format"/>.</summary>
    public static async Task<byte[]> WriteAsync(LakeFormat format, PartitionAddress partition, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> changes, CancellationToken cancellationToken = default)
    {
        using var writer = ChangeFileWriter.Create(format, partition, changes[0].Schema);
        foreach (var (schema, change) in changes)
        {
            writer.Add(schema, change);
        }
        return await writer.FinishAsync(cancellationToken);
    }

    // Property names encoded once: a file or a Kafka batch writes them for every change.
    private static readonly JsonName OpName = new("op");
    private static readonly JsonName TableName = new("table");
    private static readonly JsonName LsnName = new("lsn");
    private static readonly JsonName SeqName = new("seq");
    private static readonly JsonName PosName = new("pos");
    private static readonly JsonName CommitTimeName = new("commit_time");
    private static readonly JsonName KeyName = new("key");
    private static readonly JsonName BeforeName = new("before");
    private static readonly JsonName AfterName = new("after");
    private static readonly JsonName UnchangedName = new("unchanged");
    /// <summary>Name of the source id in lake lines.</summary>
    internal static readonly JsonName SourceName = new("source");
    /// <summary>Name of the source id in Kafka envelopes.</summary>
    internal static readonly JsonName IdName = new("id");
    private static readonly ConditionalWeakTable<TableSchema, JsonName[]> ColumnNames = new();

    /// <summary>The schema's column names, encoded once per schema instance.</summary>
    internal static JsonName[] NamesOf(TableSchema schema) =>
        ColumnNames.GetValue(schema, s => s.Columns.Select(c => new JsonName(c.Name)).ToArray());

    /// <summary>Writes the operation code.</summary>
    internal static void WriteOperation(JsonLine json, ChangeOperation operation) => json.String(OpName, OperationCode(operation));

    internal static void WriteLine(JsonLine json, PartitionAddress partition, TableSchema schema, ChangeEvent change, OriginCache origins)
    {
        json.StartObject();
        WriteOperation(json, change.Operation);
        origins.Write(json, partition, change);
        WriteImages(json, schema, change);
        json.EndObject();
    }

    /// <summary>
    /// The encoded origin of the last line, written again as is while position and commit time repeat: every row of
    /// a snapshot chunk has the same ones, and formatting them was a tenth of encoding a chunk.
    /// </summary>
    internal sealed class OriginCache
    {
        private Position _position;
        private DateTimeOffset _commitTime;
        private byte[]? _encoded;

        public void Write(JsonLine json, PartitionAddress partition, ChangeEvent change)
        {
            if (_encoded is not null && change.Position == _position && change.CommitTime.EqualsExact(_commitTime))
            {
                json.Fragment(_encoded);
                return;
            }
            var start = json.Output.WrittenCount;
            WriteOrigin(json, partition, change, SourceName);
            _encoded = json.Output.WrittenSpan[start..].ToArray();
            _position = change.Position;
            _commitTime = change.CommitTime;
        }
    }

    /// <summary>Where a change comes from: source id (under <paramref name="sourceName"/>), table, LSN, sequence, position, commit time.</summary>
    internal static void WriteOrigin(JsonLine json, PartitionAddress partition, ChangeEvent change, JsonName sourceName)
    {
        json.String(sourceName, partition.SourceId);
        json.String(TableName, partition.Table);
        Span<byte> text = stackalloc byte[24];
        var commit = change.Position.Commit;
        // The LSN's text form (hi/lo in hex) and the 24-digit position key, formatted without allocating.
        ((uint)(commit >> 32)).TryFormat(text, out var hi, "X", CultureInfo.InvariantCulture);
        text[hi] = (byte)'/';
        ((uint)commit).TryFormat(text[(hi + 1)..], out var lo, "X", CultureInfo.InvariantCulture);
        json.Name(LsnName);
        json.QuotedAscii(text[..(hi + 1 + lo)]);
        json.Name(SeqName);
        json.Number(change.Position.Sequence);
        commit.TryFormat(text, out _, "X16", CultureInfo.InvariantCulture);
        change.Position.Sequence.TryFormat(text[16..], out _, "X8", CultureInfo.InvariantCulture);
        json.Name(PosName);
        json.QuotedAscii(text);
        json.Name(CommitTimeName);
        json.Timestamp(change.CommitTime);
    }

    /// <summary>The row images: key, before, after, and the columns an update left unchanged.</summary>
    internal static void WriteImages(JsonLine json, TableSchema schema, ChangeEvent change)
    {
        json.Name(KeyName);
        WriteKey(json, schema, change);
        json.Name(BeforeName);
        WriteRowValue(json, schema, change.Before, null);
        json.Name(AfterName);
        WriteRowValue(json, schema, change.After, change.Unchanged);
        if (change.Unchanged is { Count: > 0 } unchanged)
        {
            json.Name(UnchangedName);
            json.StartArray();
            foreach (var c in unchanged)
            {
                json.String(schema.Columns[c].Name);
            }
            json.EndArray();
        }
    }

    /// <summary>The key columns as an object, or null (truncate).</summary>
    internal static void WriteKey(JsonLine json, TableSchema schema, ChangeEvent change)
    {
        if (change.KeyImage is { } keyRow)
        {
            json.StartObject();
            var names = NamesOf(schema);
            foreach (var k in schema.KeyColumns)
            {
                json.String(names[k], keyRow[k]);
            }
            json.EndObject();
        }
        else
        {
            json.Null();
        }
    }

    /// <summary>A row image as an object of column → text value (null when there is no image).</summary>
    internal static void WriteRowValue(JsonLine json, TableSchema schema, string?[]? row, IReadOnlyList<int>? omit)
    {
        if (row is null)
        {
            json.Null();
            return;
        }
        json.StartObject();
        var names = NamesOf(schema);
        for (var i = 0; i < row.Length; i++)
        {
            if (omit is null || !omit.Contains(i))
            {
                json.String(names[i], row[i]);
            }
        }
        json.EndObject();
    }

    /// <summary>The one-letter code of an operation in lake files.</summary>
    public static string OperationCode(ChangeOperation op) => op switch
    {
        ChangeOperation.Insert => "c",
        ChangeOperation.Update => "u",
        ChangeOperation.Delete => "d",
        ChangeOperation.Truncate => "t",
        ChangeOperation.Snapshot => "r",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown operation"),
    };

    /// <summary>Decodes a lake file of either format (told apart by their first bytes).</summary>
    public static IReadOnlyList<LakeRecord> Read(byte[] content) =>
        ParquetChangeFile.IsParquet(content)
            // Parquet.Net reads asynchronously; off the caller's scheduler, so a grain or test context cannot deadlock.
            ? Task.Run(() => ParquetChangeFile.ReadAsync(content)).GetAwaiter().GetResult()
            : ReadJsonLines(content);

    private static List<LakeRecord> ReadJsonLines(byte[] content)
    {
        using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var records = new List<LakeRecord>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            records.Add(new LakeRecord(
                root.GetProperty("op").GetString()!,
                Position.ParseKey(root.GetProperty("pos").GetString()!),
                root.GetProperty("commit_time").GetDateTimeOffset(),
                ReadRow(root.GetProperty("key")),
                ReadRow(root.GetProperty("before")),
                ReadRow(root.GetProperty("after")),
                root.TryGetProperty("unchanged", out var unchanged) ? unchanged.EnumerateArray().Select(u => u.GetString()!).ToArray() : null));
        }
        return records;
    }

    internal static IReadOnlyDictionary<string, string?>? ReadRow(JsonElement e) =>
        e.ValueKind == JsonValueKind.Null ? null : e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
}

/// <summary>One line of a lake file, decoded.</summary>
public sealed record LakeRecord(
    string Op,
    Position Position,
    DateTimeOffset CommitTime,
    IReadOnlyDictionary<string, string?>? Key,
    IReadOnlyDictionary<string, string?>? Before,
    IReadOnlyDictionary<string, string?>? After,
    IReadOnlyList<string>? Unchanged = null);

using System.Buffers;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>
/// The lake's Parquet format (tables configured <c>Parquet</c>). A file holds one schema version and one row per
/// change, in position order, in one row group (Snappy):
/// <list type="bullet">
/// <item><c>__op</c> (string: c, u, d, t, r), <c>__source</c>, <c>__table</c>, <c>__lsn</c> (e.g. <c>0/1A2B3C</c>),
/// <c>__seq</c> (int64), <c>__pos</c> (the 24-digit position key), <c>__commit_time</c> (timestamp, microseconds,
/// UTC): all required.</item>
/// <item>one nullable UTF-8 string column per table column, in table order, holding PostgreSQL's text form: the new
/// row for c, u and r, the old row for d (the key, or the whole row under <c>REPLICA IDENTITY FULL</c>), all null for
/// t. A table column whose name starts with <c>__</c> gets one more leading <c>_</c>, so it never meets a metadata
/// column.</item>
/// <item><c>__before</c> (nullable string): the old row of an update as a JSON object, when the source sent one.</item>
/// <item><c>__unchanged</c> (nullable string): a JSON array naming the columns an update left untouched (unchanged
/// TOAST values); their null in this row means "keep the previous value".</item>
/// </list>
/// The file's key-value metadata <c>saiki.schema</c> is the table schema (columns, PostgreSQL types, key, version) as
/// JSON, as under <c>_schemas/</c>.
/// </summary>
public static class ParquetChangeFile
{
    /// <summary>Key of the table schema in the file's key-value metadata.</summary>
    public const string SchemaMetadataKey = "saiki.schema";

    private static readonly DataField<string> OpField = new("__op", false);
    private static readonly DataField<string> SourceField = new("__source", false);
    private static readonly DataField<string> TableField = new("__table", false);
    private static readonly DataField<string> LsnField = new("__lsn", false);
    private static readonly DataField<long> SeqField = new("__seq", false);
    private static readonly DataField<string> PosField = new("__pos", false);
    private static readonly DateTimeDataField CommitTimeField = new("__commit_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);
    private static readonly DataField<string> BeforeField = new("__before", true);
    private static readonly DataField<string> UnchangedField = new("__unchanged", true);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>True when <paramref name="content"/> is a Parquet file (it starts with the magic <c>PAR1</c>).</summary>
    public static bool IsParquet(ReadOnlySpan<byte> content) => content.StartsWith("PAR1"u8);

    /// <summary>The Parquet column of a table column.</summary>
    public static string ColumnName(string column) => column.StartsWith("__", StringComparison.Ordinal) ? "_" + column : column;

    /// <summary>The Parquet schema of a file of <paramref name="table"/>'s changes.</summary>
    public static ParquetSchema SchemaOf(TableSchema table) => new(
        [
            OpField, SourceField, TableField, LsnField, SeqField, PosField, CommitTimeField,
            .. table.Columns.Select(c => new DataField<string>(ColumnName(c.Name), true)),
            BeforeField, UnchangedField,
        ]);

    /// <summary>Decodes a file written by <see cref="Writer"/>.</summary>
    public static async Task<IReadOnlyList<LakeRecord>> ReadAsync(byte[] content, CancellationToken cancellationToken = default)
    {
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(content, writable: false), cancellationToken: cancellationToken);
        var table = reader.CustomMetadata.TryGetValue(SchemaMetadataKey, out var schemaJson)
            ? JsonSerializer.Deserialize<TableSchema>(schemaJson, Json) ?? throw new InvalidDataException($"{SchemaMetadataKey} is empty")
            : throw new InvalidDataException($"not a lake file: {SchemaMetadataKey} is missing from the Parquet metadata");
        var fields = reader.Schema.DataFields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var records = new List<LakeRecord>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var rows = checked((int)group.RowCount);
            async Task<string?[]> StringsAsync(string name)
            {
                var values = new string?[rows];
                await group.ReadAsync(fields[name], values.AsMemory(), null, cancellationToken);
                return values;
            }
            var ops = await StringsAsync(OpField.Name);
            var positions = await StringsAsync(PosField.Name);
            var commitTimes = new DateTime[rows];
            await group.ReadAsync<DateTime>(fields[CommitTimeField.Name], commitTimes.AsMemory(), null, cancellationToken);
            var columns = new string?[table.Columns.Count][];
            for (var c = 0; c < columns.Length; c++)
            {
                columns[c] = await StringsAsync(ColumnName(table.Columns[c].Name));
            }
            var befores = await StringsAsync(BeforeField.Name);
            var unchangedLists = await StringsAsync(UnchangedField.Name);
            for (var r = 0; r < rows; r++)
            {
                var op = ops[r]!;
                var unchanged = unchangedLists[r] is { } u ? JsonSerializer.Deserialize<string[]>(u, Json) : null;
                var image = op == "t" ? null : table.Columns.Select((c, i) => (c.Name, Value: columns[i][r]))
                    .Where(c => unchanged?.Contains(c.Name) != true)
                    .ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
                records.Add(new LakeRecord(
                    op,
                    Position.ParseKey(positions[r]!),
                    new DateTimeOffset(DateTime.SpecifyKind(commitTimes[r], DateTimeKind.Utc)),
                    image is null ? null : table.KeyColumns.ToDictionary(k => table.Columns[k].Name, k => image[table.Columns[k].Name], StringComparer.Ordinal),
                    op == "d" ? image : befores[r] is { } before ? ParseRow(before) : null,
                    op == "d" ? null : image,
                    unchanged));
            }
        }
        return records;
    }

    private static IReadOnlyDictionary<string, string?>? ParseRow(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ChangeFile.ReadRow(doc.RootElement);
    }

    /// <summary>Collects a file's changes column by column; the file is encoded when it is finished.</summary>
    internal sealed class Writer(PartitionAddress partition, TableSchema schema) : ChangeFileWriter
    {
        private readonly List<string> _ops = [];
        private readonly List<string> _lsns = [];
        private readonly List<long> _seqs = [];
        private readonly List<string> _positions = [];
        private readonly List<DateTime> _commitTimes = [];
        private readonly List<string?>[] _columns = schema.Columns.Select(_ => new List<string?>()).ToArray();
        private readonly List<string?> _befores = [];
        private readonly List<string?> _unchanged = [];
        private readonly JsonLine _json = new(new ArrayBufferWriter<byte>(1024));

        protected override void Append(TableSchema changeSchema, ChangeEvent change)
        {
            if (changeSchema.Version != schema.Version)
            {
                throw new InvalidOperationException($"a Parquet lake file holds one schema version: {schema.Version}, not {changeSchema.Version}");
            }
            _ops.Add(ChangeFile.OperationCode(change.Operation));
            _lsns.Add(Position.FormatLsn(change.Position.Commit));
            _seqs.Add(change.Position.Sequence);
            _positions.Add(change.Position.ToKey());
            _commitTimes.Add(change.CommitTime.UtcDateTime);
            var image = change.Operation == ChangeOperation.Delete ? change.Before : change.After;
            for (var i = 0; i < _columns.Length; i++)
            {
                _columns[i].Add(image is null || change.Unchanged?.Contains(i) == true ? null : image[i]);
            }
            _befores.Add(change.Operation == ChangeOperation.Update && change.Before is { } before
                ? JsonText(json => ChangeFile.WriteRowValue(json, schema, before, null))
                : null);
            _unchanged.Add(change.Unchanged is { Count: > 0 } unchanged
                ? JsonSerializer.Serialize(unchanged.Select(i => schema.Columns[i].Name), Json)
                : null);
        }

        public override async Task<byte[]> FinishAsync(CancellationToken cancellationToken = default)
        {
            using var output = new MemoryStream();
            var parquetSchema = SchemaOf(schema);
            await using (var writer = await ParquetWriter.CreateAsync(parquetSchema, output, cancellationToken: cancellationToken))
            {
                writer.CustomMetadata = new Dictionary<string, string> { [SchemaMetadataKey] = JsonSerializer.Serialize(schema, Json) };
                if (Count > 0)
                {
                    using var group = writer.CreateRowGroup();
                    var fields = parquetSchema.DataFields;
                    var next = 0;
                    await group.WriteAsync(fields[next++], _ops);
                    await group.WriteAsync(fields[next++], Enumerable.Repeat(partition.SourceId, Count).ToArray());
                    await group.WriteAsync(fields[next++], Enumerable.Repeat(partition.Table, Count).ToArray());
                    await group.WriteAsync(fields[next++], _lsns);
                    await group.WriteAsync<long>(fields[next++], _seqs.ToArray(), cancellationToken: cancellationToken);
                    await group.WriteAsync(fields[next++], _positions);
                    await group.WriteAsync<DateTime>(fields[next++], _commitTimes.ToArray(), cancellationToken: cancellationToken);
                    foreach (var column in _columns)
                    {
                        await group.WriteAsync(fields[next++], column!);
                    }
                    await group.WriteAsync(fields[next++], _befores!);
                    await group.WriteAsync(fields[next], _unchanged!);
                    group.CompleteValidate();
                }
            }
            return output.ToArray();
        }

        private string JsonText(Action<JsonLine> write)
        {
            _json.Clear();
            write(_json);
            return Encoding.UTF8.GetString(_json.Output.WrittenSpan);
        }
    }
}

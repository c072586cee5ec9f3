using System.IO.Compression;
using System.Numerics;
using System.Reflection;
using System.Text;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Saiki.Orleans.Changes;
using PMeta = Parquet.Meta;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// A data file of a table's changelog: typed Parquet (zstd), one row per change in position order, every column
/// carrying its Iceberg field id, and the table schema in the footer key <c>iceberg.schema</c>.
/// <list type="bullet">
/// <item>metadata columns (ids 1–9, <see cref="Metadata"/>): <c>__op</c> (c, u, d, t, r), <c>__lsn</c> (commit LSN,
/// or the DynamoDB counter, as a long), <c>__seq</c> (index in the transaction), <c>__commit_time</c>
/// (timestamptz), <c>__schema_version</c>, <c>__before</c> (an update's old row as JSON of text values, when the
/// source sent it), <c>__unchanged</c> (JSON array of the columns an update left untouched: their null means "keep
/// the previous value"), <c>__text</c> (JSON object of values their typed column cannot hold, see
/// <see cref="IcebergTypes"/>), <c>__key</c> (the row's key as a JSON array of its text values: what the mirror
/// table's index is rebuilt from);</item>
/// <item>then one column per table column, typed (<see cref="IcebergTypes"/>): the new row for c, u and r, the old
/// row for d, all null for t. A table column whose name starts with <c>__</c> gets one more leading <c>_</c>.</item>
/// </list>
/// Row groups hold at most <see cref="RowGroupRows"/> rows, so readers can split and prune a file.
/// </summary>
public static class ChangelogFile
{
    /// <summary>Most rows in one row group.</summary>
    public const int RowGroupRows = 128 * 1024;

    /// <summary>First field id given to a table column; ids below are the changelog's own columns.</summary>
    public const int FirstTableFieldId = 100;

    /// <summary>The changelog's own columns: id, name, Iceberg type, required.</summary>
    public static readonly IReadOnlyList<(int Id, string Name, string Type, bool Required)> Metadata =
    [
        (1, "__op", "string", true),
        (2, "__lsn", "long", true),
        (3, "__seq", "long", true),
        (4, "__commit_time", "timestamptz", true),
        (5, "__schema_version", "string", true),
        (6, "__before", "string", false),
        (7, "__unchanged", "string", false),
        (8, "__text", "string", false),
        (9, "__key", "string", false),
    ];

    /// <summary>The column name of a table column (one more <c>_</c> when it starts with <c>__</c>).</summary>
    public static string ColumnName(string column) => ParquetChangeFile.ColumnName(column);

    /// <summary>Writes <paramref name="run"/> (one schema version, position order); returns the file and its metrics.</summary>
    public static async Task<(byte[] Content, IcebergFileMetrics Metrics)> WriteAsync(IcebergColumns columns, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> run)
    {
        await using var writer = new Writer(columns, run[0].Schema);
        foreach (var (_, change) in run)
        {
            await writer.AddAsync(change);
        }
        return await writer.FinishAsync();
    }

    /// <summary>
    /// Builds one changelog file change by change, encoding a row group whenever <see cref="RowGroupRows"/> changes
    /// wait: a large file (a snapshot chunk) holds one row group's typed columns in memory, not all its changes.
    /// </summary>
    public sealed class Writer : IAsyncDisposable
    {
        private readonly TableSchema _schema;
        private readonly IcebergColumns _columns;
        private readonly Column[] _table;
        private readonly ValueColumn<long> _lsn = new(new DataField<long>("__lsn") { FieldId = 2 }, required: true);
        private readonly ValueColumn<long> _seq = new(new DataField<long>("__seq") { FieldId = 3 }, required: true);
        private readonly ValueColumn<long> _commit = new(new DataField<long>("__commit_time") { FieldId = 4 }, required: true) { Timestamp = true };
        private readonly TextColumn _op = new("__op", 1, required: true);
        private readonly TextColumn _version = new("__schema_version", 5, required: true);
        private readonly TextColumn _before = new("__before", 6);
        private readonly TextColumn _unchanged = new("__unchanged", 7);
        private readonly TextColumn _text = new("__text", 8);
        private readonly TextColumn _key = new("__key", 9);
        private readonly Column[] _all;
        private readonly ParquetSchema _parquetSchema;
        private readonly JsonLine _line = new(new System.Buffers.ArrayBufferWriter<byte>(1024));
        private readonly JsonName[] _names;
        private readonly MemoryStream _output = new();
        private ParquetWriter? _writer;
        private int _buffered;
        private long _rows;

        /// <summary>Starts a file of changes of <paramref name="schema"/>, written with <paramref name="columns"/>' field ids.</summary>
        public Writer(IcebergColumns columns, TableSchema schema)
        {
            _schema = schema;
            _columns = columns;
            _table = schema.Columns.Select((c, i) => Column.For(ColumnName(c.Name), columns.FieldIds[i], columns.Types[i])).ToArray();
            _all = [_op, _lsn, _seq, _commit, _version, _before, _unchanged, _text, _key, .. _table];
            _parquetSchema = new ParquetSchema(_all.Select(c => (Field)c.Field).ToArray());
            _names = ChangeFile.NamesOf(schema);
            _types = Metadata.Select(m => (m.Id, m.Type)).Concat(columns.FieldIds.Select((id, i) => (id, columns.Types[i]))).ToDictionary(t => t.Item1, t => t.Item2);
        }

        private readonly Dictionary<int, string> _types;

        /// <summary>Changes added so far.</summary>
        public long Count => _rows;

        /// <summary>Adds one change (of the file's schema version).</summary>
        public async ValueTask AddAsync(ChangeEvent change)
        {
            var schema = _schema;
            _op.Add(ChangeFile.OperationCode(change.Operation));
            _lsn.Add(checked((long)change.Position.Commit));
            _seq.Add(change.Position.Sequence);
            _commit.Add((change.CommitTime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
            _version.Add(schema.Version);
            _before.Add(change.Operation == ChangeOperation.Update && change.Before is { } old
                ? Json(_line, json => ChangeFile.WriteRowValue(json, schema, old, null))
                : null);
            _unchanged.Add(change.Unchanged is { Count: > 0 } u ? Json(_line, json => UnchangedNames(json, schema, u)) : null);
            var row = change.Operation == ChangeOperation.Delete ? change.Before : change.After;
            _key.Add(KeyTextOf(_line, schema, change));
            _line.Clear();
            var overflow = false;
            for (var i = 0; i < _table.Length; i++)
            {
                var value = change.Unchanged?.Contains(i) == true ? null : row?[i];
                if (!_table[i].Add(value))
                {
                    // The typed column cannot hold it: null there, the text in __text.
                    if (!overflow)
                    {
                        _line.StartObject();
                        overflow = true;
                    }
                    _line.String(_names[i], value);
                }
            }
            if (overflow)
            {
                _line.EndObject();
            }
            _text.Add(overflow ? Encoding.UTF8.GetString(_line.Output.WrittenSpan) : null);
            _rows++;
            if (++_buffered == RowGroupRows)
            {
                await WriteGroupAsync();
            }
        }

        /// <summary>
        /// Adds every row of an earlier file of this schema version, in row order and as stored (compaction): each
        /// column is read back in the type it was written in, so values pass through without their text forms.
        /// </summary>
        public async Task AppendAsync(byte[] content)
        {
            using var stream = new MemoryStream(content);
            await using var reader = await ParquetReader.CreateAsync(stream);
            var stored = reader.Schema.DataFields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
            var missing = _all.FirstOrDefault(c => !stored.Contains(c.Field.Name));
            if (missing is not null)
            {
                throw new InvalidDataException($"a file appended to a changelog file of schema version {_schema.Version} has no column {missing.Field.Name}");
            }
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var count = checked((int)group.RowCount);
                if (_buffered > 0 && _buffered + count > RowGroupRows)
                {
                    await WriteGroupAsync();
                }
                foreach (var c in _all)
                {
                    await c.ReadAsync(group, count);
                }
                _rows += count;
                _buffered += count;
                if (_buffered >= RowGroupRows)
                {
                    await WriteGroupAsync();
                }
            }
        }

        /// <summary>Completes the file: its bytes and its metrics.</summary>
        public async Task<(byte[] Content, IcebergFileMetrics Metrics)> FinishAsync()
        {
            if (_buffered > 0 || _writer is null)
            {
                await WriteGroupAsync();
            }
            var footer = FooterOf(_writer!);
            Relabel(footer, _all);
            await _writer!.DisposeAsync();
            _writer = null;
            return (_output.ToArray(), Metrics(footer, _all, _rows, _types));
        }

        private async Task WriteGroupAsync()
        {
            if (_writer is null)
            {
                var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = CompressionLevel.Optimal };
                _writer = await ParquetWriter.CreateAsync(_parquetSchema, _output, options);
                _writer.CustomMetadata = new Dictionary<string, string> { ["iceberg.schema"] = _columns.SchemaJson };
            }
            using (var group = _writer.CreateRowGroup())
            {
                foreach (var c in _all)
                {
                    await c.WriteAsync(group);
                }
            }
            foreach (var c in _all)
            {
                c.Clear();
            }
            _buffered = 0;
        }

        /// <inheritdoc />
        public async ValueTask DisposeAsync()
        {
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }
            await _output.DisposeAsync();
        }
    }

    /// <summary>Each change's operation code and <c>__key</c>, as a file of <paramref name="run"/> holds them.</summary>
    public static IReadOnlyList<(string Op, string? Key)> Keys(IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> run)
    {
        var line = new JsonLine(new System.Buffers.ArrayBufferWriter<byte>(64));
        return run.Select(r => (ChangeFile.OperationCode(r.Event.Operation), KeyTextOf(line, r.Schema, r.Event))).ToArray();
    }

    private static string? KeyTextOf(JsonLine line, TableSchema schema, ChangeEvent change) =>
        change.Operation == ChangeOperation.Truncate || change.KeyImage is not { } image ? null : KeyText(line, schema.KeyOf(image));

    private static string KeyText(JsonLine line, string?[] key) => Json(line, json =>
    {
        json.StartArray();
        foreach (var value in key)
        {
            json.String(value);
        }
        json.EndArray();
    });

    /// <summary>Each row's operation code and <c>__key</c>, in row order (what the mirror index needs of a file).</summary>
    public static async Task<IReadOnlyList<(string Op, string? Key)>> ReadKeysAsync(byte[] content)
    {
        using var stream = new MemoryStream(content);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var fields = reader.Schema.DataFields;
        var opField = fields.First(f => f.Name == "__op");
        var keyField = fields.First(f => f.Name == "__key");
        var rows = new List<(string, string?)>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var count = checked((int)group.RowCount);
            var ops = new string?[count];
            var keys = new string?[count];
            await group.ReadAsync(opField, ops.AsMemory(), null);
            await group.ReadAsync(keyField, keys.AsMemory(), null);
            for (var i = 0; i < count; i++)
            {
                rows.Add((ops[i]!, keys[i]));
            }
        }
        return rows;
    }

    /// <summary>The key values of a <c>__key</c> text.</summary>
    public static string?[] KeyValues(string keyText) => System.Text.Json.JsonSerializer.Deserialize<string?[]>(keyText)!;

    private static string Json(JsonLine line, Action<JsonLine> write)
    {
        line.Clear();
        write(line);
        return Encoding.UTF8.GetString(line.Output.WrittenSpan);
    }

    private static void UnchangedNames(JsonLine json, TableSchema schema, IReadOnlyList<int> unchanged)
    {
        json.StartArray();
        foreach (var i in unchanged)
        {
            json.String(schema.Columns[i].Name);
        }
        json.EndArray();
    }

    private static IcebergFileMetrics Metrics(PMeta.FileMetaData footer, Column[] columns, long rows, IReadOnlyDictionary<int, string> types)
    {
        var sizes = new Dictionary<int, long>();
        var lower = new Dictionary<int, long>();
        var upper = new Dictionary<int, long>();
        var unbounded = new HashSet<int>();
        foreach (var group in footer.RowGroups)
        {
            foreach (var chunk in group.Columns)
            {
                var column = columns.First(c => c.Field.Name == chunk.MetaData!.PathInSchema[0]);
                var id = column.Field.FieldId;
                sizes[id] = sizes.GetValueOrDefault(id) + chunk.MetaData!.TotalCompressedSize;
                if (BoundWidth(types[id]) is not { } width)
                {
                    continue;
                }
                // A row group of nulls only has no bounds of its own; one without statistics leaves the column unbounded.
                var statistics = chunk.MetaData.Statistics;
                if (statistics?.MinValue is { } min && statistics.MaxValue is { } max && min.Length == width && max.Length == width)
                {
                    var (lo, hi) = (Decode(min), Decode(max));
                    lower[id] = lower.TryGetValue(id, out var l) ? Math.Min(l, lo) : lo;
                    upper[id] = upper.TryGetValue(id, out var u) ? Math.Max(u, hi) : hi;
                }
                else if (statistics?.NullCount != chunk.MetaData.NumValues)
                {
                    unbounded.Add(id);
                }
            }
        }
        byte[] Encode(int id, long value) => BoundWidth(types[id]) == 4 ? BitConverter.GetBytes((int)value) : BitConverter.GetBytes(value);
        return new IcebergFileMetrics(
            rows,
            columns.ToDictionary(c => c.Field.FieldId, _ => rows),
            columns.ToDictionary(c => c.Field.FieldId, c => c.TotalNulls),
            sizes)
        {
            LowerBounds = lower.Where(b => !unbounded.Contains(b.Key)).ToDictionary(b => b.Key, b => Encode(b.Key, b.Value)),
            UpperBounds = upper.Where(b => !unbounded.Contains(b.Key)).ToDictionary(b => b.Key, b => Encode(b.Key, b.Value)),
        };

        static long Decode(byte[] value) => value.Length == 4 ? BitConverter.ToInt32(value) : BitConverter.ToInt64(value);
    }

    /// <summary>
    /// Bytes of a column's bound when Saiki records one: Iceberg's single-value form of these types is the Parquet
    /// statistic's plain little-endian form (int, date: 4; long, time, timestamps: 8), ordered as signed integers in
    /// both. Other types get none (decimals are big-endian in Iceberg, floats may hold NaN, strings and UUIDs order by
    /// bytes the writer's statistics do not follow, booleans have no statistics): a missing bound only means no pruning.
    /// </summary>
    private static int? BoundWidth(string icebergType) => icebergType switch
    {
        "int" or "date" => 4,
        "long" or "time" or "timestamp" or "timestamptz" => 8,
        _ => null,
    };

    /// <summary>
    /// Parquet.Net 6.1 writes the statistics of its timestamp types in milliseconds whatever the unit (upstream issue
    /// 769), so engines that prune row groups on them skip rows they must read; and it orders UUID statistics by .NET's
    /// mixed-endian bytes. Timestamps are therefore written as plain int64 microseconds and labelled here, in the footer
    /// before it is written; UUID statistics are dropped. The footer is not public API: a test pins this behaviour.
    /// </summary>
    private static void Relabel(PMeta.FileMetaData footer, Column[] columns)
    {
        foreach (var element in footer.Schema)
        {
            var column = Array.Find(columns, c => c.Field.Name == element.Name);
            if (column?.Timestamp is { } utc)
            {
                element.LogicalType = new PMeta.LogicalType
                {
                    TIMESTAMP = new PMeta.TimestampType { IsAdjustedToUTC = utc, Unit = new PMeta.TimeUnit { MICROS = new PMeta.MicroSeconds() } },
                };
                element.ConvertedType = utc ? PMeta.ConvertedType.TIMESTAMP_MICROS : null;
            }
        }
        foreach (var group in footer.RowGroups)
        {
            foreach (var chunk in group.Columns)
            {
                if (columns.First(c => c.Field.Name == chunk.MetaData!.PathInSchema[0]) is UuidColumn && chunk.MetaData!.Statistics is { } stats)
                {
                    stats.MinValue = stats.MaxValue = stats.Min = stats.Max = null;
                }
            }
        }
    }

    private static PMeta.FileMetaData FooterOf(ParquetWriter writer)
    {
        var footer = typeof(ParquetWriter).GetField("_footer", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(writer)
            ?? throw new InvalidOperationException("Parquet.Net's writer has no _footer field: the pinned version changed");
        return footer.GetType().GetField("_fileMeta", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(footer) as PMeta.FileMetaData
            ?? throw new InvalidOperationException("Parquet.Net's footer has no _fileMeta field: the pinned version changed");
    }

    /// <summary>One Parquet column of a row group being built.</summary>
    private abstract class Column
    {
        public abstract DataField Field { get; }

        /// <summary>For timestamp columns, whether the value is adjusted to UTC; null otherwise.</summary>
        public bool? Timestamp { get; init; }

        public long TotalNulls { get; protected set; }

        /// <summary>Adds a text value; false when the type cannot hold it (the column gets a null).</summary>
        public abstract bool Add(string? text);

        public abstract void Clear();

        public abstract Task WriteAsync(ParquetRowGroupWriter group);

        /// <summary>Adds the <paramref name="count"/> values of this column in a row group of a file written with the same column.</summary>
        /// <remarks>Read with this column's own field (attached to the writer's schema): it names the column's physical
        /// type (int64 microseconds for timestamps), where the file's schema would name the logical one.</remarks>
        public abstract Task ReadAsync(ParquetRowGroupReader group, int count);

        public static Column For(string name, int id, string type)
        {
            switch (type)
            {
                case "int": return new ValueColumn<int>(new DataField<int?>(name) { FieldId = id }, t => int.Parse(t, System.Globalization.CultureInfo.InvariantCulture));
                case "long": return new ValueColumn<long>(new DataField<long?>(name) { FieldId = id }, t => long.Parse(t, System.Globalization.CultureInfo.InvariantCulture));
                case "float": return new ValueColumn<float>(new DataField<float?>(name) { FieldId = id }, t => (float)IcebergTypes.ParseDouble(t));
                case "double": return new ValueColumn<double>(new DataField<double?>(name) { FieldId = id }, t => IcebergTypes.ParseDouble(t));
                case "boolean": return new ValueColumn<bool>(new DataField<bool?>(name) { FieldId = id }, t => IcebergTypes.ParseBoolean(t));
                case "date":
                    return new ValueColumn<DateOnly>(new DataField<DateOnly?>(name) { FieldId = id },
                        t => IcebergTypes.ParseDate(t) is { } days && days is >= -719_162 and <= 2_932_896 ? DateOnly.FromDayNumber(days + 719_162) : null);
                case "timestamp" or "timestamptz":
                    return new ValueColumn<long>(new DataField<long?>(name) { FieldId = id }, t => IcebergTypes.ParseTimestamp(t)) { Timestamp = type == "timestamptz" };
                case "time":
                    return new ValueColumn<long>(new TimeDataField(name, TimeUnitPrecision.Micros, isNullable: true) { FieldId = id, IsAdjustedToUtc = false }, t => IcebergTypes.ParseTime(t));
                case "uuid": return new UuidColumn(new DataField<Guid?>(name) { FieldId = id });
                case "binary": return new BinaryColumn(name, id);
                case "string": return new TextColumn(name, id);
            }
            var (precision, scale) = IcebergTypes.DecimalOf(type);
            if (precision <= 28)
            {
                var divisor = (decimal)BigInteger.Pow(10, scale);
                return new ValueColumn<decimal>(new DecimalDataField(name, precision, scale, isNullable: true) { FieldId = id },
                    t => IcebergTypes.ParseUnscaled(t, precision, scale) is { } unscaled ? (decimal)unscaled / divisor : null);
            }
            return new ValueColumn<BigDecimal>(new BigDecimalDataField(name, precision, scale, isNullable: true) { FieldId = id },
                t => IcebergTypes.ParseUnscaled(t, precision, scale) is { } unscaled ? new BigDecimal(unscaled, precision, scale) : null);
        }
    }

    /// <summary>A column of a value type: values of the present rows, and definition levels (0 null, 1 present) when optional.</summary>
    private class ValueColumn<T>(DataField dataField, Func<string, T?>? parse = null, bool required = false) : Column where T : struct
    {
        private readonly List<T> _values = [];
        private readonly List<int> _levels = [];

        public override DataField Field => dataField;

        public void Add(T value)
        {
            _values.Add(value);
            _levels.Add(1);
        }

        public override bool Add(string? text)
        {
            if (text is null)
            {
                _levels.Add(0);
                TotalNulls++;
                return true;
            }
            if (parse!(text) is { } value)
            {
                Add(value);
                return true;
            }
            _levels.Add(0);
            TotalNulls++;
            return false;
        }

        public override void Clear()
        {
            _values.Clear();
            _levels.Clear();
        }

        public override async Task ReadAsync(ParquetRowGroupReader group, int count)
        {
            if (required)
            {
                var present = new T[count];
                await group.ReadAsync<T>(dataField, present.AsMemory(), null);
                foreach (var value in present)
                {
                    Add(value);
                }
                return;
            }
            var values = new T?[count];
            await group.ReadAsync<T>(dataField, values.AsMemory(), null);
            foreach (var value in values)
            {
                if (value is { } v)
                {
                    Add(v);
                }
                else
                {
                    _levels.Add(0);
                    TotalNulls++;
                }
            }
        }

        public override Task WriteAsync(ParquetRowGroupWriter group) => required
            ? group.WriteAsync<T>(dataField, _values.ToArray().AsMemory())
            : group.WriteAllPartsAsync<T>(dataField, _values.ToArray().AsMemory(), _levels.ToArray().AsMemory(), null, CancellationToken.None);
    }

    private sealed class UuidColumn(DataField field) : ValueColumn<Guid>(field, t => Guid.Parse(t));

    private sealed class TextColumn(string name, int id, bool required = false) : Column
    {
        private readonly DataField _field = new DataField<string>(name, !required) { FieldId = id };
        private readonly List<string?> _values = [];

        public override DataField Field => _field;

        public override bool Add(string? text)
        {
            _values.Add(text);
            TotalNulls += text is null ? 1 : 0;
            return true;
        }

        public override void Clear() => _values.Clear();

        public override async Task ReadAsync(ParquetRowGroupReader group, int count)
        {
            var values = new string?[count];
            await group.ReadAsync(_field, values.AsMemory(), null);
            foreach (var value in values)
            {
                Add(value);
            }
        }

        public override Task WriteAsync(ParquetRowGroupWriter group) => group.WriteAsync(_field, _values);
    }

    private sealed class BinaryColumn(string name, int id) : Column
    {
        private readonly DataField _field = new DataField<byte[]>(name, true) { FieldId = id };
        private readonly List<byte[]?> _values = [];

        public override DataField Field => _field;

        public override bool Add(string? text)
        {
            _values.Add(text is null ? null : IcebergTypes.ParseBinary(text));
            TotalNulls += text is null ? 1 : 0;
            return true;
        }

        public override void Clear() => _values.Clear();

        public override async Task ReadAsync(ParquetRowGroupReader group, int count)
        {
            var values = new byte[]?[count];
            await group.ReadAsync(_field, values.AsMemory()!, null);
            _values.AddRange(values);
            TotalNulls += values.Count(v => v is null);
        }

        public override Task WriteAsync(ParquetRowGroupWriter group) => group.WriteAsync(_field, _values!);
    }
}

/// <summary>Metrics of a written data file, per Iceberg field id.</summary>
public sealed record IcebergFileMetrics(
    long Rows,
    IReadOnlyDictionary<int, long> ValueCounts,
    IReadOnlyDictionary<int, long> NullCounts,
    IReadOnlyDictionary<int, long> ColumnSizes)
{
    /// <summary>Lower bounds (Iceberg's single-value form) of the columns that have them (see <see cref="ChangelogFile"/>).</summary>
    public IReadOnlyDictionary<int, byte[]> LowerBounds { get; init; } = new Dictionary<int, byte[]>();

    /// <summary>Upper bounds, as <see cref="LowerBounds"/>.</summary>
    public IReadOnlyDictionary<int, byte[]> UpperBounds { get; init; } = new Dictionary<int, byte[]>();

    /// <summary>The file the committer takes for a manifest entry written with these metrics.</summary>
    public IcebergFile FileOf(ManifestEntry entry) =>
        IcebergFile.Of(entry) with { ValueCounts = ValueCounts, NullCounts = NullCounts, ColumnSizes = ColumnSizes, LowerBounds = LowerBounds, UpperBounds = UpperBounds };
}

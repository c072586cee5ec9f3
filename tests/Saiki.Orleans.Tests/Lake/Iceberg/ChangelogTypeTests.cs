using System.Text.Json;
using DuckDB.NET.Data;
using Npgsql;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake.Iceberg;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Lake.Iceberg;

/// <summary>
/// Every PostgreSQL type becomes the Iceberg and Parquet type the mapping names, and its values come back exactly:
/// PostgreSQL writes the rows, the changelog file is written from their text form as capture sees it, and DuckDB
/// (software this project did not write) reads the file. Each value is compared in a canonical form both databases
/// compute themselves (exact digits, epoch microseconds, hex), type by type; values a typed column cannot hold are
/// null there and kept, exactly, in <c>__text</c>. A compacted file (earlier files appended column by column) reads the same.
/// </summary>
public sealed class ChangelogTypeTests
{
    /// <summary>Column, PostgreSQL type, DuckDB type of the file's column, and each side's canonical text of a value (null stays null).</summary>
    private static readonly (string Column, string PgType, string DuckType, string PgCanonical, string DuckCanonical)[] Columns =
    [
        ("i2", "smallint", "INTEGER", "i2::text", "i2::VARCHAR"),
        ("i4", "integer", "INTEGER", "i4::text", "i4::VARCHAR"),
        ("i8", "bigint", "BIGINT", "i8::text", "i8::VARCHAR"),
        ("f4", "real", "FLOAT", "CASE WHEN f4 = 'NaN' THEN 'nan' WHEN f4 = 'Infinity' THEN 'inf' WHEN f4 = '-Infinity' THEN '-inf' ELSE f4::float8::text END",
            "CASE WHEN isnan(f4) THEN 'nan' WHEN f4 = 'inf'::FLOAT THEN 'inf' WHEN f4 = '-inf'::FLOAT THEN '-inf' ELSE f4::DOUBLE::VARCHAR END"),
        ("f8", "double precision", "DOUBLE", "CASE WHEN f8 = 'NaN' THEN 'nan' WHEN f8 = 'Infinity' THEN 'inf' WHEN f8 = '-Infinity' THEN '-inf' ELSE f8::text END",
            "CASE WHEN isnan(f8) THEN 'nan' WHEN f8 = 'inf'::DOUBLE THEN 'inf' WHEN f8 = '-inf'::DOUBLE THEN '-inf' ELSE f8::VARCHAR END"),
        ("b", "boolean", "BOOLEAN", "b::text", "b::VARCHAR"),
        ("n9", "numeric(9,2)", "DECIMAL(9,2)", "CASE WHEN n9 = 'NaN' THEN NULL ELSE n9::text END", "n9::VARCHAR"),
        ("n18", "numeric(18,6)", "DECIMAL(18,6)", "n18::text", "n18::VARCHAR"),
        ("n38", "numeric(38,10)", "DECIMAL(38,10)", "n38::text", "n38::VARCHAR"),
        ("n", "numeric", "VARCHAR", "n::text", "n"),
        ("t", "text", "VARCHAR", "t", "t"),
        ("vc", "varchar(20)", "VARCHAR", "vc::text", "vc"),
        ("d", "date", "DATE", "CASE WHEN isfinite(d) AND d >= '0001-01-01' AND d <= '9999-12-31' THEN d::text END", "d::VARCHAR"),
        ("ts", "timestamp", "TIMESTAMP", "CASE WHEN isfinite(ts) AND ts < '294247-01-01' THEN (extract(epoch FROM ts) * 1000000)::bigint::text END", "epoch_us(ts)::VARCHAR"),
        ("tstz", "timestamptz", "TIMESTAMP WITH TIME ZONE", "CASE WHEN isfinite(tstz) THEN (extract(epoch FROM tstz) * 1000000)::bigint::text END", "epoch_us(tstz)::VARCHAR"),
        ("tm", "time", "TIME", "CASE WHEN tm < '24:00:00' THEN (extract(epoch FROM tm) * 1000000)::bigint::text END",
            "(extract('hour' FROM tm) * 3600000000 + extract('minute' FROM tm) * 60000000 + extract('microseconds' FROM tm))::BIGINT::VARCHAR"),
        ("u", "uuid", "UUID", "u::text", "u::VARCHAR"),
        ("ba", "bytea", "BLOB", "upper(encode(ba, 'hex'))", "hex(ba)"),
        ("j", "jsonb", "VARCHAR", "j::text", "j"),
        ("arr", "integer[]", "VARCHAR", "arr::text", "arr"),
    ];

    [Fact]
    public async Task EveryType_RoundTripsExactly_AsDuckDbReadsTheChangelogFile()
    {
        await using var db = await TestDatabase.CreateAsync("types");
        var t = $"{db.Name}.t";
        await db.ExecuteAsync($"CREATE TABLE {t} (id int PRIMARY KEY, {string.Join(", ", Columns.Select(c => $"{c.Column} {c.PgType}"))})");
        await db.ExecuteAsync($$"""
            INSERT INTO {{t}} VALUES
              (1, 1, 1, 1, 1.5, 3.141592653589793, true, 1234567.89, 123456789012.345678, 1234567890123456789012345678.9012345678,
               1.000000000000000000000000000000000000000000001, 'héllo "quoted" \ back', 'v', '2024-02-29', '2024-06-01 12:34:56.123456',
               '2024-06-01 12:34:56.123456+05:30', '12:34:56.123456', '00112233-4455-6677-8899-aabbccddeeff', '\x00ff10', '{"a": [1, 2.50]}', '{1,NULL,3}'),
              (2, -32768, -2147483648, -9223372036854775808, 'NaN', 'Infinity', false, -0.01, -999999999999.999999, -9999999999999999999999999999.9999999999,
               'NaN', '', '', '0001-01-01', '0001-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '00:00:00', '00000000-0000-0000-0000-000000000000', '\x', 'null', '{}'),
              (3, 32767, 2147483647, 9223372036854775807, '-Infinity', '-Infinity', NULL, 0, 0.000001, 0.0000000001,
               '-0.5', NULL, NULL, '9999-12-31', '294276-12-31 23:59:59.999999', '4713-11-24 00:00:00+00 BC', '23:59:59.999999', NULL, NULL, NULL, NULL),
              (4, NULL, NULL, NULL, 1e-45, 5e-324, NULL, 'NaN', NULL, NULL,
               'Infinity', NULL, NULL, 'infinity', '-infinity', 'infinity', '24:00:00', NULL, NULL, NULL, NULL),
              (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, '0044-03-15 BC', '1999-01-08 04:05:06', NULL, NULL, NULL, NULL, NULL, NULL)
            """);

        // The rows as capture sees them (the types' output form) and the table schema as the source describes it.
        var rows = await db.ReadTableAsync(t, ["id"]);
        var columns = new List<ColumnSchema>();
        await using (var conn = new NpgsqlConnection(db.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '{t}'::regclass AND attnum > 0 ORDER BY attnum", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                columns.Add(new ColumnSchema(reader.GetString(0), reader.GetString(1)));
            }
        }
        var schema = new TableSchema(t, columns, [0]);
        var run = rows.OrderBy(r => int.Parse(r.Key)).Select((r, i) => (schema, new ChangeEvent(ChangeOperation.Insert, new Position(100, (uint)i), DateTimeOffset.UnixEpoch,
            null, columns.Select(c => r.Value[c.Name]).ToArray()))).ToList();
        var iceberg = new IcebergSchemaBook().For(schema, new Position(100, 0), []);
        var (content, metrics) = await ChangelogFile.WriteAsync(iceberg, run);
        Assert.Equal(5, metrics.Rows);

        // Compaction's form of the same rows: two files of them appended, column by column, into one.
        await using var compacting = new ChangelogFile.Writer(iceberg, schema);
        await compacting.AppendAsync((await ChangelogFile.WriteAsync(iceberg, run[..2])).Content);
        await compacting.AppendAsync((await ChangelogFile.WriteAsync(iceberg, run[2..])).Content);
        var (compacted, compactedMetrics) = await compacting.FinishAsync();
        Assert.Equal(5, compactedMetrics.Rows);
        Assert.Equal(metrics.NullCounts, compactedMetrics.NullCounts);

        Assert.Equal(metrics.LowerBounds.Keys.Order(), compactedMetrics.LowerBounds.Keys.Order());
        foreach (var file in new[] { (content, metrics), (compacted, compactedMetrics) })
        {
            await CheckAsync(db, t, rows, file.Item1);
            await CheckBoundsAsync(file.Item1, file.Item2, columns.Select((c, i) => (c.Name, iceberg.FieldIds[i])).ToDictionary(x => x.Name, x => x.Item2));
        }
    }

    /// <summary>
    /// The bounds a file's metrics give (Iceberg's single-value form: little-endian ints, longs, days, µs) are the smallest and largest values DuckDB reads in each column; the columns without bounds
    /// are the ones whose order Iceberg and the writer's statistics do not share.
    /// </summary>
    private static async Task CheckBoundsAsync(byte[] content, global::Saiki.Orleans.Lake.Iceberg.IcebergFileMetrics metrics, Dictionary<string, int> fieldIds)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bounds-{Guid.NewGuid():N}.parquet");
        await File.WriteAllBytesAsync(path, content);
        try
        {
            await using var duck = new DuckDBConnection("DataSource=:memory:");
            await duck.OpenAsync();
            var bounded = new (string Column, int FieldId, string Expression)[]
            {
                ("id", fieldIds["id"], "id"), ("i2", fieldIds["i2"], "i2"), ("i4", fieldIds["i4"], "i4"), ("i8", fieldIds["i8"], "i8"),
                ("d", fieldIds["d"], "date_diff('day', DATE '1970-01-01', d)"),
                ("ts", fieldIds["ts"], "epoch_us(ts)"), ("tstz", fieldIds["tstz"], "epoch_us(tstz)"),
                ("tm", fieldIds["tm"], "(extract('hour' FROM tm) * 3600000000 + extract('minute' FROM tm) * 60000000 + extract('microseconds' FROM tm))::BIGINT"),
                ("__lsn", 2, "__lsn"), ("__seq", 3, "__seq"), ("__commit_time", 4, "epoch_us(__commit_time)"),
            };
            foreach (var (column, id, expression) in bounded)
            {
                var row = (await QueryAsync(duck, $"SELECT min({expression})::VARCHAR, max({expression})::VARCHAR FROM read_parquet('{path}')"))[0];
                static string Decode(byte[] b) => (b.Length == 4 ? BitConverter.ToInt32(b) : BitConverter.ToInt64(b)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(metrics.LowerBounds.ContainsKey(id), $"{column} has no lower bound");
                Assert.Equal((row[0], row[1]), (Decode(metrics.LowerBounds[id]), Decode(metrics.UpperBounds[id])));
            }
            foreach (var unbounded in new[] { "f4", "f8", "b", "n9", "n18", "n38", "t", "u", "ba" })
            {
                Assert.False(metrics.LowerBounds.ContainsKey(fieldIds[unbounded]), $"{unbounded} has a bound");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task CheckAsync(TestDatabase db, string t, IReadOnlyDictionary<string, Dictionary<string, string?>> rows, byte[] content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"changelog-{Guid.NewGuid():N}.parquet");
        await File.WriteAllBytesAsync(path, content);
        try
        {
            await using var duck = new DuckDBConnection("DataSource=:memory:");
            await duck.OpenAsync();
            var types = await QueryAsync(duck, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{path}'))");
            foreach (var c in Columns)
            {
                Assert.Equal(c.DuckType, types.Single(r => r[0] == c.Column)[1]);
            }
            Assert.Equal("TIMESTAMP WITH TIME ZONE", types.Single(r => r[0] == "__commit_time")[1]);
            Assert.Equal("BIGINT", types.Single(r => r[0] == "__lsn")[1]);
            var ids = await QueryAsync(duck, $"SELECT name, field_id::VARCHAR FROM parquet_schema('{path}') WHERE name NOT IN ('duckdb_schema', 'root', 'schema')");
            Assert.All(ids, r => Assert.NotNull(r[1]));
            Assert.Equal(ids.Count, ids.Select(r => r[1]).Distinct().Count());
            Assert.Equal("1", (await QueryAsync(duck, $"SELECT count(DISTINCT row_group_id)::VARCHAR FROM parquet_metadata('{path}')"))[0][0]);
            Assert.Equal("ZSTD", (await QueryAsync(duck, $"SELECT DISTINCT compression FROM parquet_metadata('{path}')"))[0][0]);

            var expected = await PgCanonicalAsync(db, t);
            var actual = (await QueryAsync(duck, $"SELECT id::VARCHAR, {string.Join(", ", Columns.Select(c => $"({c.DuckCanonical})"))}, __text FROM read_parquet('{path}') ORDER BY id"));
            Assert.Equal(expected.Count, actual.Count);
            for (var r = 0; r < expected.Count; r++)
            {
                var text = actual[r][^1] is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json)! : [];
                for (var c = 0; c < Columns.Length; c++)
                {
                    var column = Columns[c].Column;
                    if (text.TryGetValue(column, out var kept))
                    {
                        // Not representable in the typed column: null there, the exact output form in __text.
                        Assert.Null(actual[r][c + 1]);
                        Assert.Equal(rows[expected[r][0]!][column], kept);
                        continue;
                    }
                    Assert.True(Same(column, expected[r][c + 1], actual[r][c + 1]), $"row {expected[r][0]}, column {column}: PostgreSQL {expected[r][c + 1] ?? "NULL"}, DuckDB {actual[r][c + 1] ?? "NULL"}");
                }
            }
            // The rows whose special values have no typed form carry them in __text, exactly.
            Assert.Contains("\"n9\":\"NaN\"", actual[3][^1]);
            Assert.Contains("\"d\":\"infinity\"", actual[3][^1]);
            Assert.Contains("\"tm\":\"24:00:00\"", actual[3][^1]);
            Assert.Contains("\"d\":\"0044-03-15 BC\"", actual[4][^1]);
            Assert.Contains("\"ts\":\"294276-12-31 23:59:59.999999\"", actual[2][^1]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Equal canonical texts; floating point compared as numbers (the two databases print the shortest form each their own way).</summary>
    private static bool Same(string column, string? pg, string? duck) =>
        column is "f4" or "f8" && pg is not null && duck is not null && pg is not ("nan" or "inf" or "-inf")
            ? double.Parse(pg, System.Globalization.CultureInfo.InvariantCulture) == double.Parse(duck, System.Globalization.CultureInfo.InvariantCulture)
            : pg == duck;

    private static async Task<List<string?[]>> PgCanonicalAsync(TestDatabase db, string table)
    {
        await using var conn = new NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT id::text, {string.Join(", ", Columns.Select(c => $"({c.PgCanonical})"))} FROM {table} ORDER BY id", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToArray());
        }
        return rows;
    }

    private static async Task<List<string?[]>> QueryAsync(DuckDBConnection duck, string sql)
    {
        await using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i).ToString()).ToArray());
        }
        return rows;
    }
}

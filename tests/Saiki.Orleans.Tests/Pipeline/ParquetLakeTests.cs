using Parquet;
using Parquet.Schema;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster whose lake writes Parquet by default, except for one table of the test's schema kept in JSON Lines.</summary>
public sealed class ParquetCluster : PipelineCluster
{
    /// <summary>The schema (and source id) the test uses; the settings name its tables.</summary>
    public string Schema { get; } = "parquet_" + Guid.NewGuid().ToString("N")[..8];

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Lake:Format", "Parquet"),
        new($"Saiki:Lake:TableFormats:{Schema}.items", "JsonLines"),
    ];
}

public sealed class ParquetLakeTests(ParquetCluster fixture) : IClassFixture<ParquetCluster>
{
    private static readonly string[] MetadataColumns = ["__op", "__source", "__table", "__lsn", "__seq", "__pos", "__commit_time"];
    private static readonly string[] OrderColumns = ["id", "status", "amount", "paid", "___op", "created"];

    [Fact]
    public async Task ParquetTable_SnapshotAndStream_FilesHoldTheSchemaAndTheTablesValues_AndReplayEqualsTheTable()
    {
        await using var db = await TestDatabase.CreateNamedAsync(fixture.Schema);
        var s = db.Name;
        // "__op" is a legal column name that meets the metadata column's: the file calls it "___op".
        await db.ExecuteAsync($"""
            CREATE TABLE {s}.orders (id int PRIMARY KEY, status text NOT NULL, amount numeric(10,2), paid boolean, "__op" text, created timestamptz);
            CREATE TABLE {s}.items (id int PRIMARY KEY, sku text);
            INSERT INTO {s}.orders SELECT g, 'new', g * 1.25, g % 2 = 0, 'x' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
                FROM generate_series(1, 400) g;
            INSERT INTO {s}.items SELECT g, 'sku-' || g FROM generate_series(1, 50) g;
            """);
        var started = DateTimeOffset.UtcNow;
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.orders", $"{s}.items"], 2));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"""
            INSERT INTO {s}.orders SELECT g, 'new', NULL, NULL, NULL, NULL FROM generate_series(401, 600) g;
            UPDATE {s}.orders SET status = 'paid', paid = true, amount = amount + 1 WHERE id % 3 = 0;
            UPDATE {s}.orders SET status = 'it''s "quoted" | ü', "__op" = NULL WHERE id % 50 = 1;
            DELETE FROM {s}.orders WHERE id % 7 = 0;
            UPDATE {s}.orders SET id = id + 10000 WHERE id = 2;
            INSERT INTO {s}.items VALUES (51, 'late');
            """);

        var replay = await fixture.AssertLakeMatchesAsync(db, s, $"{s}.orders", ["id"], 2);
        await fixture.AssertLakeMatchesAsync(db, s, $"{s}.items", ["id"], 2);
        Assert.Equal(400, replay.SnapshotRows);

        var entries = await ListAsync(s, $"{s}.orders");
        Assert.All(entries, e => Assert.Equal(LakeFormat.Parquet, e.Format));
        Assert.All(entries, e => Assert.EndsWith(".parquet", e.Key));
        Assert.Contains(entries, e => e.Partition == -1 && e.Key.Contains("/snapshot/chunk-", StringComparison.Ordinal));
        Assert.All(await ListAsync(s, $"{s}.items"), e =>
        {
            Assert.Equal(LakeFormat.JsonLines, e.Format);
            Assert.EndsWith(".jsonl.gz", e.Key);
        });

        // Every file read with Parquet.Net directly; the newest row image of each key must be the table's row.
        var latest = new Dictionary<string, (Position Position, string Op, Dictionary<string, string?> Row)>();
        var rows = 0;
        foreach (var entry in entries)
        {
            var file = await ReadFileAsync(entry);
            Assert.Equal(entry.Rows, file.Count);
            rows += file.Count;
            if (entry.Partition >= 0)
            {
                // Data files are filed by their first change's commit hour (UTC).
                var first = file[0].CommitTime;
                Assert.Contains($"/{s}.orders/dt={first:yyyy-MM-dd}/hr={first:HH}/part-{entry.Partition:D4}-", entry.Key, StringComparison.Ordinal);
            }
            foreach (var row in file)
            {
                Assert.Equal(s, row.Values["__source"]);
                Assert.Equal($"{s}.orders", row.Values["__table"]);
                Assert.Equal(Position.FormatLsn(row.Position.Commit), row.Values["__lsn"]);
                Assert.Equal(row.Position.Sequence, row.Seq);
                Assert.InRange(row.CommitTime, started.UtcDateTime.AddSeconds(-5), DateTime.UtcNow);
                Assert.Equal(DateTimeKind.Utc, row.CommitTime.Kind);
                Assert.Contains(row.Values["__op"], entry.Partition == -1 ? new[] { "r" } : ["c", "u", "d"]);
                var id = row.Values["id"]!;
                if (!latest.TryGetValue(id, out var seen) || seen.Position < row.Position)
                {
                    latest[id] = (row.Position, row.Values["__op"]!, OrderColumns.ToDictionary(c => c == "___op" ? "__op" : c, c => row.Values[c]));
                }
            }
        }
        Assert.Equal(replay.Changes + replay.SnapshotRows, rows);

        var table = await db.ReadTableAsync($"{s}.orders", ["id"]);
        Assert.Equal(table.Keys.Order(), latest.Where(l => l.Value.Op != "d").Select(l => l.Key).Order());
        foreach (var (id, row) in table)
        {
            Assert.Equal(row, latest[id].Row);
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    private async Task<List<ManifestEntry>> ListAsync(string source, string table)
    {
        var entries = new List<ManifestEntry>();
        await foreach (var e in new Manifest(fixture.Lake, fixture.Layout).ListTableAsync(source, table))
        {
            entries.Add(e);
        }
        return entries;
    }

    private sealed record FileRow(Position Position, long Seq, DateTime CommitTime, Dictionary<string, string?> Values);

    /// <summary>Reads one lake file with Parquet.Net, checking its schema: names, physical and logical types, nullability.</summary>
    private async Task<List<FileRow>> ReadFileAsync(ManifestEntry entry)
    {
        var bytes = await fixture.Lake.GetAsync(entry.Key) ?? throw new InvalidOperationException($"{entry.Key} is missing");
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(bytes));
        var fields = reader.Schema.DataFields;
        Assert.Equal([.. MetadataColumns, .. OrderColumns, "__before", "__unchanged"], fields.Select(f => f.Name));
        foreach (var field in fields)
        {
            var element = field.SchemaElement!;
            switch (field.Name)
            {
                case "__seq":
                    Assert.Equal(Parquet.Meta.Type.INT64, element.Type);
                    Assert.True(element.LogicalType?.INTEGER is null or { BitWidth: 64, IsSigned: true });
                    Assert.False(field.IsNullable);
                    break;
                case "__commit_time":
                    Assert.Equal(Parquet.Meta.Type.INT64, element.Type);
                    Assert.True(element.LogicalType!.TIMESTAMP!.IsAdjustedToUTC);
                    Assert.NotNull(element.LogicalType.TIMESTAMP.Unit.MICROS);
                    Assert.False(field.IsNullable);
                    break;
                default:
                    Assert.Equal(Parquet.Meta.Type.BYTE_ARRAY, element.Type);
                    Assert.NotNull(element.LogicalType!.STRING);
                    // Metadata is always there; table values and the JSON extras may be NULL.
                    Assert.Equal(!MetadataColumns.Contains(field.Name), field.IsNullable);
                    break;
            }
        }
        Assert.Contains(ParquetChangeFile.SchemaMetadataKey, reader.CustomMetadata.Keys);

        var rows = new List<FileRow>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var count = (int)group.RowCount;
            var strings = new Dictionary<string, string?[]>();
            foreach (var field in fields.Where(f => f.Name is not ("__seq" or "__commit_time")))
            {
                strings[field.Name] = new string?[count];
                await group.ReadAsync(field, strings[field.Name].AsMemory());
            }
            var seqs = new long[count];
            await group.ReadAsync<long>(Field(fields, "__seq"), seqs.AsMemory());
            var times = new DateTime[count];
            await group.ReadAsync<DateTime>(Field(fields, "__commit_time"), times.AsMemory());
            for (var r = 0; r < count; r++)
            {
                rows.Add(new FileRow(Position.ParseKey(strings["__pos"][r]!), seqs[r], times[r], strings.ToDictionary(c => c.Key, c => c.Value[r])));
            }
        }
        return rows;
    }

    private static DataField Field(IEnumerable<DataField> fields, string name) => fields.Single(f => f.Name == name);
}

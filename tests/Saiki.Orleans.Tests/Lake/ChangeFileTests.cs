using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Lake;

public sealed class ChangeFileTests
{
    private static readonly TableSchema Schema = new("s.t", [new("id", "integer"), new("name", "text"), new("note", "text")], [0]);
    private static readonly PartitionAddress Partition = new("src", "s.t", 2);
    private static readonly DateTimeOffset Commit = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void EveryOperation_RoundTripsWithKeyImagesAndNulls()
    {
        var changes = new (TableSchema, ChangeEvent)[]
        {
            (Schema, new ChangeEvent(ChangeOperation.Insert, new(0x10, 0), Commit, null, ["1", "a \"quoted\"\nline", null])),
            (Schema, new ChangeEvent(ChangeOperation.Update, new(0x10, 1), Commit, ["1", "a", null], ["1", "b", "ü"])),
            (Schema, new ChangeEvent(ChangeOperation.Delete, new(0x20, 0), Commit, ["1", null, null], null)),
            (Schema, new ChangeEvent(ChangeOperation.Truncate, new(0x30, 0), Commit, null, null)),
        };
        var records = ChangeFile.Read(ChangeFile.Write(Partition, changes));

        Assert.Equal(["c", "u", "d", "t"], records.Select(r => r.Op));
        Assert.Equal(changes.Select(c => c.Item2.Position), records.Select(r => r.Position));
        Assert.Equal("a \"quoted\"\nline", records[0].After!["name"]);
        Assert.Null(records[0].After!["note"]);
        Assert.Null(records[0].Before);
        Assert.Equal("a", records[1].Before!["name"]);
        Assert.Equal("ü", records[1].After!["note"]);
        Assert.Equal(new Dictionary<string, string?> { ["id"] = "1" }, records[2].Key);
        Assert.Null(records[2].After);
        Assert.Null(records[3].Key);
        Assert.All(records, r => Assert.Equal(Commit, r.CommitTime));
    }

    [Fact]
    public void DataKeys_AreDeterministic_FiledByTheFirstCommitHourInUtc_AndCarryThePositionRangeAndFormat()
    {
        var layout = new LakeLayout("lake");
        // 01:30 at UTC+3 is 22:30 UTC the day before.
        var commit = new DateTimeOffset(2026, 11, 27, 1, 30, 0, TimeSpan.FromHours(3));
        var key = layout.DataKey(Partition, new Position(0x1A, 2), new Position(0x2B, 0), commit, LakeFormat.JsonLines);
        Assert.Equal("lake/src/s.t/dt=2026-11-26/hr=22/part-0002-000000000000001A00000002-000000000000002B00000000.jsonl.gz", key);
        Assert.Equal(key, layout.DataKey(Partition, new Position(0x1A, 2), new Position(0x2B, 0), commit, LakeFormat.JsonLines));
        var parquet = layout.DataKey(Partition, new Position(0x1A, 2), new Position(0x2B, 0), commit, LakeFormat.Parquet);
        Assert.Equal("lake/src/s.t/dt=2026-11-26/hr=22/part-0002-000000000000001A00000002-000000000000002B00000000.parquet", parquet);
        Assert.All([key, parquet], k => Assert.Equal(new Position(0x1A, 2), LakeLayout.FirstPositionOfDataKey(k)));
        Assert.StartsWith(layout.DataPrefix(Partition, commit), key);
        Assert.Equal("lake/_manifest/src/s.t/part-0002/000000000000002B00000000.json", layout.ManifestKey(Partition, new Position(0x2B, 0)));
        Assert.Equal("lake/src/s.t/snapshot/chunk-000007.parquet", layout.SnapshotDataKey("src", "s.t", 7, LakeFormat.Parquet));
    }

    [Fact]
    public void DataPrefixes_CoverEveryHourOfARange_AcrossMidnight()
    {
        var layout = new LakeLayout("");
        var prefixes = layout.DataPrefixes(Partition, new DateTimeOffset(2026, 11, 26, 22, 59, 59, TimeSpan.Zero), new DateTimeOffset(2026, 11, 27, 1, 0, 0, TimeSpan.Zero)).ToArray();
        Assert.Equal(
            ["src/s.t/dt=2026-11-26/hr=22/part-0002-", "src/s.t/dt=2026-11-26/hr=23/part-0002-", "src/s.t/dt=2026-11-27/hr=00/part-0002-", "src/s.t/dt=2026-11-27/hr=01/part-0002-"],
            prefixes);
    }

    [Fact]
    public async Task Parquet_ReadsBackAsTheSameRecordsAsJsonLines_UnchangedColumnsAndReservedNamesIncluded()
    {
        var schema = new TableSchema("s.t", [new("id", "integer"), new("name", "text"), new("__op", "text"), new("big", "text")], [0]);
        var changes = new (TableSchema, ChangeEvent)[]
        {
            (schema, new ChangeEvent(ChangeOperation.Snapshot, new(0x10, 0), Commit, null, ["1", "snap", "x", "b"])),
            (schema, new ChangeEvent(ChangeOperation.Insert, new(0x11, 0), Commit.AddTicks(10), null, ["2", "a \"quoted\"\nline", null, "ü"])),
            (schema, new ChangeEvent(ChangeOperation.Update, new(0x12, 0), Commit, ["2", "a", null, "ü"], ["2", "b", "y", "ü"])),
            (schema, new ChangeEvent(ChangeOperation.Update, new(0x12, 1), Commit, null, ["1", "c", null, null], [3])),
            (schema, new ChangeEvent(ChangeOperation.Delete, new(0x20, 0), Commit, ["2", null, null, null], null)),
            (schema, new ChangeEvent(ChangeOperation.Truncate, new(0x30, 0), Commit, null, null)),
        };
        var parquet = await ChangeFile.WriteAsync(LakeFormat.Parquet, Partition, changes);
        Assert.True(ParquetChangeFile.IsParquet(parquet));

        var expected = ChangeFile.Read(ChangeFile.Write(Partition, changes));
        var actual = ChangeFile.Read(parquet);
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(Describe(expected[i]), Describe(actual[i]));
        }
        Assert.Equal(["big"], actual[3].Unchanged!);
        Assert.False(actual[3].After!.ContainsKey("big"));
        Assert.Equal("y", actual[2].After!["__op"]);
        // Microseconds, PostgreSQL's precision, survive.
        Assert.Equal(Commit.AddTicks(10), actual[1].CommitTime);
    }

    [Fact]
    public async Task Parquet_FileOfNoChanges_IsValidAndEmpty()
    {
        using var writer = ChangeFileWriter.Create(LakeFormat.Parquet, Partition, Schema);
        Assert.Empty(ChangeFile.Read(await writer.FinishAsync()));
    }

    private static string Describe(LakeRecord r) => System.Text.Json.JsonSerializer.Serialize(new
    {
        r.Op, Position = r.Position.ToKey(), r.CommitTime,
        Key = Sorted(r.Key), Before = Sorted(r.Before), After = Sorted(r.After), r.Unchanged,
    });

    private static SortedDictionary<string, string?>? Sorted(IReadOnlyDictionary<string, string?>? row) =>
        row is null ? null : new SortedDictionary<string, string?>(row.ToDictionary(), StringComparer.Ordinal);

    [Fact]
    public void PositionKeys_SortLikePositions()
    {
        var positions = new[] { new Position(1, 5), new Position(0x100, 0), new Position(2, 0), new Position(1, 0x10) };
        Assert.Equal(positions.Order().Select(p => p.ToKey()), positions.Select(p => p.ToKey()).Order(StringComparer.Ordinal));
        Assert.All(positions, p => Assert.Equal(p, Position.ParseKey(p.ToKey())));
        Assert.Equal("16/B374D848#3", new Position(0x16_B374D848, 3).ToString());
        Assert.Throws<FormatException>(() => Position.ParseKey("xyz"));
    }
}

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
    public void DataKeys_AreDeterministicAndCarryThePositionRange()
    {
        var layout = new LakeLayout("lake");
        var key = layout.DataKey(Partition, new Position(0x1A, 2), new Position(0x2B, 0), Commit);
        Assert.Equal("lake/src/s.t/dt=2026-11-26/part-0002-000000000000001A00000002-000000000000002B00000000.jsonl.gz", key);
        Assert.Equal(key, layout.DataKey(Partition, new Position(0x1A, 2), new Position(0x2B, 0), Commit));
        Assert.Equal(new Position(0x1A, 2), LakeLayout.FirstPositionOfDataKey(key));
        Assert.Equal("lake/_manifest/src/s.t/part-0002/000000000000002B00000000.json", layout.ManifestKey(Partition, new Position(0x2B, 0)));
    }

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

using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class OrphanFileTests(PipelineCluster fixture)
{
    /// <summary>
    /// A crash between a data file and its manifest entry leaves a file no entry lists; the partition deletes such
    /// files when it activates, looking through the hours (<c>dt=…/hr=…</c>) they can be filed under.
    /// </summary>
    [Fact]
    public async Task DataFilesNoManifestEntryLists_AreDeletedWhenThePartitionActivates_WhicheverHourTheyAreFiledUnder()
    {
        await using var db = await TestDatabase.CreateAsync("orphan");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v text)");
        var address = new PartitionAddress(s, $"{s}.t", 0);
        var orphans = new[] { DateTimeOffset.UtcNow.AddHours(-3), DateTimeOffset.UtcNow }
            .Select((commitTime, i) => fixture.Layout.DataKey(address, new Position(ulong.MaxValue - 10, (uint)i), new Position(ulong.MaxValue - 10, (uint)i), commitTime, LakeFormat.JsonLines))
            .ToArray();
        Assert.Equal(2, orphans.Select(k => k[..k.LastIndexOf('/')]).Distinct().Count());
        foreach (var key in orphans)
        {
            await fixture.Lake.PutAsync(key, "left by a crash"u8.ToArray());
        }

        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 1, SnapshotMode.Never));
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, 'v' || g FROM generate_series(1, 20) g");

        await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 1);
        foreach (var key in orphans)
        {
            Assert.Null(await fixture.Lake.GetAsync(key));
        }
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

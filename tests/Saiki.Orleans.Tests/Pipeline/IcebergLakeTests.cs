using System.Globalization;
using System.Text.Json;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>A cluster whose lake is Iceberg, committing every half second.</summary>
public sealed class IcebergCluster : PipelineCluster
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Lake:Format", "Iceberg"),
        new("Saiki:Lake:Iceberg:CommitInterval", "00:00:00.500"),
        new("Saiki:Lake:Iceberg:MaxManifests", "4"),
    ];
}

/// <summary>
/// The Iceberg lake end to end: a PostgreSQL source's snapshot and stream land in the table's changelog table, which
/// icebird, an Iceberg reader this project did not write, reads from the object store; replaying its rows by key
/// (the newest position wins, a delete removes) gives exactly the PostgreSQL table.
/// </summary>
public sealed class IcebergLakeTests(IcebergCluster fixture) : IClassFixture<IcebergCluster>
{
    [Fact]
    public async Task SnapshotAndStream_LandInTheChangelogTable_AndIcebirdsReplayEqualsTheTable()
    {
        await using var db = await TestDatabase.CreateAsync("ice");
        var s = db.Name;
        var t = $"{s}.orders";
        await db.ExecuteAsync($"CREATE TABLE {t} (id int PRIMARY KEY, name text, qty bigint, price numeric(10,2), at timestamptz)");
        await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'snap-' || g, g * 10, g + 0.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, 300) g");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [t], 2, SnapshotMode.Initial));
        await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'new-' || g, g, 1.5, now() FROM generate_series(301, 600) g");
        await db.ExecuteAsync($"UPDATE {t} SET qty = qty + 1, name = name || '!' WHERE id % 3 = 0");
        await db.ExecuteAsync($"DELETE FROM {t} WHERE id % 10 = 0");
        await db.ExecuteAsync($"UPDATE {t} SET id = id + 10000 WHERE id IN (7, 301)");

        var expected = await db.ReadTableAsync(t, ["id"]);
        var replay = await Eventually.MatchAsync(
            () => fixture.ReplayChangelogAsync(s, t, ["id"]),
            r => r.Latest.Count == expected.Count && r.Latest.Keys.All(expected.ContainsKey),
            TimeSpan.FromSeconds(90));
        Assert.Equal(expected.Count, replay.Latest.Count);
        foreach (var (id, row) in expected)
        {
            var actual = replay.Latest[id];
            Assert.Equal(row["name"], actual.GetProperty("name").GetString());
            Assert.Equal(row["qty"], actual.GetProperty("qty").GetString()); // long: BigInt, as a string
            Assert.Equal(decimal.Parse(row["price"]!, System.Globalization.CultureInfo.InvariantCulture),
                Math.Round((decimal)actual.GetProperty("price").GetDouble(), 2)); // icebird reads decimals as JS numbers
        }
        // Every change is there exactly once: 300 snapshot rows, 300 inserts, 200 updates, 60 deletes, 2 key changes of two rows each.
        Assert.Equal(300, replay.Count("r"));
        Assert.Equal(300 + 2, replay.Count("c"));
        Assert.Equal(200, replay.Count("u"));
        Assert.Equal(60 + 2, replay.Count("d"));
        // Snapshot rows share their chunk's position; every streamed change has its own.
        var (streamed, positions) = replay.StreamedPositions();
        Assert.Equal(streamed, positions);

        // The mirror, read by icebird with its position deletes applied, is exactly the table.
        var mirror = await Eventually.MatchAsync(() => fixture.ReadMirrorAsync(s, t), m => m.Count == expected.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(expected.Keys.Order(), mirror.Keys.Order());
        foreach (var (id, row) in expected)
        {
            Assert.Equal(row["name"], mirror[id].GetProperty("name").GetString());
            Assert.Equal(row["qty"], mirror[id].GetProperty("qty").GetString());
            Assert.False(mirror[id].TryGetProperty("__op", out _), "the mirror's schema holds the table's columns only");
        }

        var info = await Eventually.MatchAsync(() => fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{t}").GetAsync(), i => i.PendingFiles == 0);
        Assert.Equal(replay.Changes.Count, info.Rows);
        Assert.Equal(0, info.PendingFiles);
        Assert.True(info.Snapshots >= 1);
        await AssertBoundsAsync(s, t);
        var location = info.MetadataLocation!;
        var version = location[(location.LastIndexOf("/v", StringComparison.Ordinal) + 2)..^".metadata.json".Length];
        Assert.Equal(version, System.Text.Encoding.UTF8.GetString((await fixture.Lake.GetAsync($"{s}/{t}/metadata/version-hint.text"))!));
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    /// <summary>
    /// The column bounds in the changelog's manifests, as icebird reads them, span exactly the values its rows hold:
    /// what engines prune files by (<c>__lsn</c>, <c>__commit_time</c>, and the int, long and timestamptz columns).
    /// </summary>
    private async Task AssertBoundsAsync(string s, string t)
    {
        var table = await fixture.ReadChangelogAsync(s, t);
        var (_, json) = (await fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{t}").MetadataAsync(mirror: false))!.Value;
        using var metadata = JsonDocument.Parse(json);
        var fields = metadata.RootElement.GetProperty("schemas").EnumerateArray().Last().GetProperty("fields").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture));
        var rows = table.GetProperty("rows").EnumerateArray().ToArray();
        var bounds = table.GetProperty("bounds").EnumerateArray().ToArray();
        Assert.Equal(table.GetProperty("files").GetInt32(), bounds.Length);
        // Timestamps come from icebird as JavaScript dates (milliseconds); the bounds hold microseconds.
        static long Millis(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        foreach (var (column, width, read, scale) in new (string, int, Func<JsonElement, long>, long)[]
        {
            ("__lsn", 8, v => long.Parse(ChangelogReplay.Text(v)!, CultureInfo.InvariantCulture), 1),
            ("__commit_time", 8, v => Millis(v.GetString()!), 1000),
            ("id", 4, v => v.GetInt64(), 1),
            ("qty", 8, v => long.Parse(ChangelogReplay.Text(v)!, CultureInfo.InvariantCulture), 1),
            ("at", 8, v => Millis(v.GetString()!), 1000),
        })
        {
            var id = fields[column];
            long Decode(JsonElement side)
            {
                var bytes = Convert.FromHexString(side.GetProperty(id).GetString()!);
                Assert.Equal(width, bytes.Length);
                return width == 4 ? BitConverter.ToInt32(bytes) : BitConverter.ToInt64(bytes);
            }
            var spans = bounds.Select(b => (Lower: Decode(b.GetProperty("lower")), Upper: Decode(b.GetProperty("upper")))).ToArray();
            Assert.All(spans, x => Assert.True(x.Lower <= x.Upper, $"{column}: lower {x.Lower} above upper {x.Upper}"));
            var values = rows.Select(r => r.GetProperty(column)).Where(v => v.ValueKind != JsonValueKind.Null).Select(read).ToArray();
            // Rounded down to the reader's unit, the widest bounds are the smallest and largest values.
            Assert.Equal(values.Min(), Math.DivRem(spans.Min(x => x.Lower), scale).Quotient);
            Assert.Equal(values.Max(), Math.DivRem(spans.Max(x => x.Upper), scale).Quotient);
        }
    }

    [Fact]
    public async Task TruncateAndAnAddedColumn_TheMirrorFollowsTheTable_AndTheNewColumnGetsItsOwnFieldId()
    {
        await using var db = await TestDatabase.CreateAsync("icetr");
        var s = db.Name;
        var t = $"{s}.items";
        await db.ExecuteAsync($"CREATE TABLE {t} (id int PRIMARY KEY, v text)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [t], 2, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'a' || g FROM generate_series(1, 100) g");
        await db.ExecuteAsync($"UPDATE {t} SET v = 'b' WHERE id <= 10");
        await db.ExecuteAsync($"TRUNCATE {t}");
        await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'c' || g FROM generate_series(101, 150) g");
        await db.ExecuteAsync($"ALTER TABLE {t} ADD COLUMN extra int");
        await db.ExecuteAsync($"INSERT INTO {t} SELECT g, 'd' || g, g * 2 FROM generate_series(151, 160) g");
        await db.ExecuteAsync($"UPDATE {t} SET extra = 5 WHERE id = 101; DELETE FROM {t} WHERE id = 102");

        var expected = await db.ReadTableAsync(t, ["id"]);
        var mirror = await Eventually.MatchAsync(() => fixture.ReadMirrorAsync(s, t),
            m => m.Count == expected.Count && m.Keys.All(expected.ContainsKey) && m.TryGetValue("101", out var r) && r.GetProperty("extra").ValueKind == JsonValueKind.Number,
            TimeSpan.FromSeconds(60));
        Assert.Equal(expected.Keys.Order(), mirror.Keys.Order());
        foreach (var (id, row) in expected)
        {
            Assert.Equal(row["v"], mirror[id].GetProperty("v").GetString());
            var extra = mirror[id].GetProperty("extra");
            Assert.Equal(row["extra"], extra.ValueKind == JsonValueKind.Null ? null : extra.GetRawText());
        }
        var changelog = (await fixture.ReadChangelogAsync(s, t)).GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(2, changelog.Count(r => r.GetProperty("__op").GetString() == "t")); // one per partition

        // The added column has a field id of its own in a new schema, which is current.
        var info = await fixture.Cluster.Client.GetGrain<ILakeTableGrain>($"{s}|{t}").GetAsync();
        var s3 = $"s3://{fixture.Bucket}/";
        var metadata = JsonDocument.Parse((await fixture.Lake.GetAsync(info.MirrorMetadataLocation![s3.Length..]))!).RootElement;
        var schemas = metadata.GetProperty("schemas").EnumerateArray().ToArray();
        Assert.True(schemas.Length >= 2);
        var current = schemas.Single(x => x.GetProperty("schema-id").GetInt32() == metadata.GetProperty("current-schema-id").GetInt32());
        var fields = current.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("id").GetInt32());
        Assert.Equal(["extra", "id", "v"], fields.Keys.Order());
        Assert.True(fields["extra"] > fields["v"] && fields["v"] > fields["id"]);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }
}

using System.Globalization;
using System.Text.Json;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// Rebuilds a table from its Iceberg changelog as icebird read it (tests/iceberg/read.mjs's JSON): the changes are
/// applied in position order (<c>__lsn</c>, then <c>__seq</c>; snapshot rows, <c>r</c>, share their chunk's
/// position), so per key the newest change wins, a <c>d</c> removes the row, a <c>t</c> empties the table, and a
/// column an update lists in <c>__unchanged</c> keeps its previous value. Values a typed column could not hold are
/// taken from <c>__text</c>.
/// </summary>
public sealed class ChangelogReplay
{
    /// <summary>The changelog's own columns (a table column starting with <c>__</c> is stored with one more <c>_</c>).</summary>
    private static readonly HashSet<string> MetadataColumns =
        ["__op", "__lsn", "__seq", "__commit_time", "__schema_version", "__before", "__unchanged", "__text", "__key"];

    private ChangelogReplay(Dictionary<string, JsonElement> latest, Dictionary<string, Dictionary<string, string?>> rows, JsonElement[] changes)
    {
        Latest = latest;
        Rows = rows;
        Changes = changes;
    }

    /// <summary>Per key (key columns' text joined with '|', as <see cref="TestDatabase.ReadTableAsync"/>), the changelog row that made the row what it is.</summary>
    public Dictionary<string, JsonElement> Latest { get; }

    /// <summary>Per key, the row's table columns in icebird's form as text: strings, numbers (BigInt arrives as a string), t/f, null.</summary>
    public Dictionary<string, Dictionary<string, string?>> Rows { get; }

    /// <summary>Every changelog row, as read.</summary>
    public IReadOnlyList<JsonElement> Changes { get; }

    /// <summary>Changelog rows of an operation (<c>c</c>, <c>u</c>, <c>d</c>, <c>t</c>, <c>r</c>).</summary>
    public int Count(string op) => Changes.Count(c => Op(c) == op);

    /// <summary>Streamed changes (all but snapshot rows), and how many distinct positions they have: equal when none is there twice.</summary>
    public (int Streamed, int DistinctPositions) StreamedPositions()
    {
        var streamed = Changes.Where(c => Op(c) != "r").Select(c => (Lsn(c), Seq(c))).ToArray();
        return (streamed.Length, streamed.Distinct().Count());
    }

    /// <summary>Replays icebird's rows of a changelog table.</summary>
    public static ChangelogReplay Of(JsonElement changelog, IReadOnlyList<string> keyColumns)
    {
        var changes = changelog.GetProperty("rows").EnumerateArray().ToArray();
        var latest = new Dictionary<string, JsonElement>();
        var rows = new Dictionary<string, Dictionary<string, string?>>();
        // OrderBy is stable: rows of one position keep icebird's order.
        foreach (var change in changes.OrderBy(c => (Lsn(c), Seq(c))))
        {
            var op = Op(change);
            if (op == "t")
            {
                latest.Clear();
                rows.Clear();
                continue;
            }
            var row = TableColumns(change);
            var key = string.Join("|", keyColumns.Select(k => row[k]));
            if (op == "d")
            {
                latest.Remove(key);
                rows.Remove(key);
                continue;
            }
            if (change.TryGetProperty("__unchanged", out var unchanged) && unchanged.GetString() is { } names && rows.TryGetValue(key, out var previous))
            {
                foreach (var name in JsonSerializer.Deserialize<string[]>(names)!)
                {
                    row[name] = previous.GetValueOrDefault(name);
                }
            }
            latest[key] = change;
            rows[key] = row;
        }
        return new ChangelogReplay(latest, rows, changes);
    }

    /// <summary>A value in icebird's JSON form as text: a string as it is, a number as written, a boolean as t/f (PostgreSQL's output form).</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "t",
        JsonValueKind.False => "f",
        _ => value.GetRawText(),
    };

    private static Dictionary<string, string?> TableColumns(JsonElement change)
    {
        var row = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in change.EnumerateObject().Where(p => !MetadataColumns.Contains(p.Name)))
        {
            row[property.Name.StartsWith("___", StringComparison.Ordinal) ? property.Name[1..] : property.Name] = Text(property.Value);
        }
        if (change.TryGetProperty("__text", out var text) && text.GetString() is { } overflow)
        {
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string?>>(overflow)!)
            {
                row[name] = value;
            }
        }
        return row;
    }

    private static string? Op(JsonElement change) => change.GetProperty("__op").GetString();

    private static decimal Lsn(JsonElement change) => decimal.Parse(change.GetProperty("__lsn").GetString()!, CultureInfo.InvariantCulture);

    private static long Seq(JsonElement change) => long.Parse(change.GetProperty("__seq").GetString()!, CultureInfo.InvariantCulture);
}

/// <summary>Reading a cluster's Iceberg changelog tables with icebird.</summary>
public static class IcebergChangelog
{
    /// <summary>The changelog table of <paramref name="table"/> as icebird reads it from s3rver (read.mjs's JSON).</summary>
    public static async Task<JsonElement> ReadChangelogAsync(this PipelineCluster cluster, string source, string table, long? snapshot = null, bool mirror = false)
    {
        var info = await cluster.Cluster.Client.GetGrain<ILakeTableGrain>($"{source}|{table}").GetAsync();
        var location = (mirror ? info.MirrorMetadataLocation : info.MetadataLocation) ?? throw new InvalidOperationException($"table {source}|{table} has no committed snapshot yet");
        var s3 = $"s3://{cluster.Bucket}/";
        var http = $"{TestEnvironment.S3Url}/{cluster.Bucket}/";
        return await Icebird.ReadAsync(location.Replace(s3, http, StringComparison.Ordinal), snapshot, (s3, http));
    }

    /// <summary>
    /// An event table's rows as icebird reads them, once its committer has committed at least <paramref name="rows"/>
    /// rows and nothing waits (<paramref name="source"/> and <paramref name="table"/> are the committer's key parts).
    /// </summary>
    public static async Task<JsonElement[]> ReadEventTableAsync(this PipelineCluster cluster, string source, string table, long rows, TimeSpan? timeout = null)
    {
        var committer = cluster.Cluster.Client.GetGrain<ILakeTableGrain>(Saiki.Orleans.Ingestion.EventTable.CommitterKey(source, table));
        await Eventually.MatchAsync(committer.GetAsync, i => i.Rows >= rows && i.PendingFiles == 0, timeout);
        return (await cluster.ReadChangelogAsync(source, table)).GetProperty("rows").EnumerateArray().ToArray();
    }

    /// <summary>The mirror table as icebird reads it (position deletes applied), by the text of its <c>id</c> column.</summary>
    public static async Task<Dictionary<string, JsonElement>> ReadMirrorAsync(this PipelineCluster cluster, string source, string table) =>
        (await cluster.ReadChangelogAsync(source, table, mirror: true)).GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("id") is var id && id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText()); // long ids come as strings

    /// <summary>
    /// What is wrong with the files of a table's two Iceberg tables in the store: a file a kept snapshot refers to
    /// (as live) that is missing, or a file under the table's folders (data, snapshot chunks, metadata, delete files)
    /// that nothing kept refers to: left behind by a failed or interrupted write. Empty when all is well.
    /// </summary>
    public static async Task<List<string>> IcebergStoreProblemsAsync(this PipelineCluster cluster, string source, string table)
    {
        var info = await cluster.Cluster.Client.GetGrain<ILakeTableGrain>($"{source}|{table}").GetAsync();
        var problems = new List<string>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        async Task<byte[]?> ReadAsync(string location, string what)
        {
            var key = cluster.Lake.KeyOf(location);
            referenced.Add(key);
            var bytes = await cluster.Lake.GetAsync(key);
            if (bytes is null)
            {
                problems.Add($"{what} {key} is missing");
            }
            return bytes;
        }
        foreach (var location in new[] { info.MetadataLocation, info.MirrorMetadataLocation })
        {
            if (location is null || await ReadAsync(location, "metadata") is not { } json)
            {
                continue;
            }
            var metadata = Saiki.Orleans.Lake.Iceberg.IcebergTableMetadata.Parse(System.Text.Encoding.UTF8.GetString(json));
            referenced.Add(cluster.Lake.KeyOf(location)[..cluster.Lake.KeyOf(location).LastIndexOf('/')] + "/version-hint.text");
            foreach (var log in metadata.MetadataLog)
            {
                await ReadAsync(log.MetadataFile, "metadata log file");
            }
            foreach (var snapshot in metadata.Snapshots)
            {
                if (await ReadAsync(snapshot.ManifestList, $"manifest list of snapshot {snapshot.SnapshotId}") is not { } list)
                {
                    continue;
                }
                foreach (var manifest in Saiki.Orleans.Lake.Iceberg.IcebergManifests.ReadManifestList(list))
                {
                    if (await ReadAsync(manifest.Path, $"manifest of snapshot {snapshot.SnapshotId}") is not { } entries)
                    {
                        continue;
                    }
                    foreach (var entry in Saiki.Orleans.Lake.Iceberg.IcebergManifests.ReadManifest(entries, manifest))
                    {
                        // A file a snapshot removed (status DELETED) may be gone once the snapshots before it expired.
                        if (entry.IsLive)
                        {
                            await ReadAsync(entry.File.FilePath, $"file of snapshot {snapshot.SnapshotId}");
                        }
                        else
                        {
                            referenced.Add(cluster.Lake.KeyOf(entry.File.FilePath));
                        }
                    }
                }
            }
        }
        await foreach (var key in cluster.Lake.ListAsync($"{source}/{table}/"))
        {
            // An empty snapshot chunk is a zero-byte object its Saiki manifest entry names: Iceberg has no empty data files.
            if (!referenced.Contains(key) && !(key.Contains("/snapshot/", StringComparison.Ordinal) && (await cluster.Lake.GetAsync(key))?.Length == 0))
            {
                problems.Add($"{key} is in the store but no kept snapshot refers to it");
            }
        }
        return problems;
    }

    /// <summary>The replay of <paramref name="table"/>'s changelog as icebird reads it.</summary>
    public static async Task<ChangelogReplay> ReplayChangelogAsync(this PipelineCluster cluster, string source, string table, IReadOnlyList<string> keyColumns) =>
        ChangelogReplay.Of(await cluster.ReadChangelogAsync(source, table), keyColumns);
}

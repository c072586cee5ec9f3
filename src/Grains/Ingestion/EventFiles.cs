using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Ingestion;

/// <summary>
/// Where business events land and how: gzip JSON Lines, one file per write, filed under the hour of its first
/// event (as change files are under their first change's) and named by a sequence number the writer persists, so
/// a retried write replaces the whole file under the same key.
/// <list type="bullet">
/// <item><c>{prefix}/_events/{event type}/dt=YYYY-MM-DD/hr=HH/{seq}.jsonl.gz</c> — events posted over REST</item>
/// <item><c>{prefix}/_kafka/{source}/events/dt=…/hr=…/{seq}.jsonl.gz</c> — events of a Kafka topic source, in event-time order</item>
/// <item><c>{prefix}/_kafka/{source}/late/dt=…/hr=…/{seq}.jsonl.gz</c> — events that came too late or were invalid, each
/// line <c>{"reason":…,"partition":…,"offset":…,"event":…}</c></item>
/// </list>
/// Each writer kind has a folder of its own (<see cref="SaikiIds"/>: no id starts with '_', so no capture source's
/// <c>{source}/</c> folder meets these), and a folder ends with '/' after the id, so no id's keys extend another's.
/// </summary>
public sealed class EventFiles(ILakeStore store, LakeLayout layout)
{

    /// <summary>Folder of events posted for an event type.</summary>
    public string PostedPrefix(string eventType) => layout.Key($"_events/{eventType}/");

    /// <summary>Folder of a Kafka source's cleansed events.</summary>
    public string SourcePrefix(string source) => layout.Key($"_kafka/{source}/events/");

    /// <summary>Folder of a Kafka source's late and invalid events.</summary>
    public string LatePrefix(string source) => layout.Key($"_kafka/{source}/late/");

    /// <summary>Writes lines (in order) as one file under <paramref name="folder"/>; returns its key.</summary>
    public async Task<string> WriteAsync(string folder, long sequence, IReadOnlyList<(DateTimeOffset Time, string Line)> lines, CancellationToken ct = default)
    {
        var key = $"{folder}dt={lines[0].Time.UtcDateTime:yyyy-MM-dd}/hr={lines[0].Time.UtcDateTime:HH}/{sequence:D12}.jsonl.gz";
        using var buffer = new MemoryStream();
        await using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            foreach (var (_, line) in lines)
            {
                gzip.Write(Encoding.UTF8.GetBytes(line));
                gzip.WriteByte((byte)'\n');
            }
        }
        await store.PutAsync(key, buffer.ToArray(), ct);
        return key;
    }

    /// <summary>A late-location line.</summary>
    public static string LateLine(string reason, int? partition, long? offset, string eventText) =>
        JsonSerializer.Serialize(new { reason, partition, offset, @event = eventText });

    /// <summary>Reads the lines of every file under a folder, in key order (tests and tools).</summary>
    public async Task<List<string>> ReadAllAsync(string folder, CancellationToken ct = default)
    {
        var lines = new List<string>();
        var keys = new List<string>();
        await foreach (var key in store.ListAsync(folder, null, ct))
        {
            keys.Add(key);
        }
        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            var bytes = await store.GetAsync(key, ct) ?? [];
            using var reader = new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress));
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                lines.Add(line);
            }
        }
        return lines;
    }
}

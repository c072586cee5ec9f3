using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Saiki.Orleans.Bench;

/// <summary>The silo's REST API, as much of it as the benchmark needs. JSON stays loosely typed on purpose: the
/// benchmark must keep working while fields are added to the API.</summary>
internal sealed class SaikiApi(HttpClient http)
{
    public async Task RegisterPostgresAsync(string id, string connectionString, string table, int partitions, string snapshot, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("/api/sources/postgres",
            new { id, connectionString, tables = new[] { table }, partitions, snapshot }, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"registering source {id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    public async Task<SourceStatus?> GetSourceAsync(string id, CancellationToken ct)
    {
        using var response = await http.GetAsync($"/api/sources/{id}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return SourceStatus.From(await response.Content.ReadFromJsonAsync<JsonElement>(ct));
    }

    public Task PauseSourceAsync(string id, CancellationToken ct) => PostAsync($"/api/sources/{id}/pause", ct);

    public Task ResumeSourceAsync(string id, CancellationToken ct) => PostAsync($"/api/sources/{id}/resume", ct);

    private async Task PostAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add("X-Saiki-Request", "bench"); // a bodiless POST must say it is not a browser form's
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    public async Task<bool> RemoveSourceAsync(string id, CancellationToken ct)
    {
        using var response = await http.DeleteAsync($"/api/sources/{id}", ct);
        return response.IsSuccessStatusCode;
    }

    /// <summary>The table's Iceberg state (<c>GET /api/lake/{source}/{table}/iceberg</c>).</summary>
    public Task<JsonElement> GetIcebergAsync(string source, string table, CancellationToken ct) =>
        http.GetFromJsonAsync<JsonElement>($"/api/lake/{source}/{table}/iceberg", ct);

    /// <summary>Every file the table's manifest lists, all pages.</summary>
    public async Task<IReadOnlyList<LakeFile>> ListFilesAsync(string source, string table, CancellationToken ct)
    {
        const int page = 10_000;
        var all = new List<LakeFile>();
        while (true)
        {
            var files = await http.GetFromJsonAsync<JsonElement>($"/api/lake/{source}/{table}/files?offset={all.Count}&limit={page}", ct);
            all.AddRange(files.EnumerateArray().Select(f => new LakeFile(
                f.GetProperty("key").GetString()!,
                f.GetProperty("partition").GetInt32(),
                f.GetProperty("rows").GetInt64(),
                f.GetProperty("writtenAt").GetDateTimeOffset(),
                f.TryGetProperty("level", out var level) ? level.GetInt32() : 0)));
            if (files.GetArrayLength() < page)
            {
                return all;
            }
        }
    }
}

/// <summary>What <c>GET /api/sources/{id}</c> says.</summary>
internal sealed record SourceStatus(
    string State, string? Error, long ChangesCaptured, long ChangesDurable, long FilesWritten, string ConfirmedLsn,
    IReadOnlyList<TableSnapshot>? Snapshot)
{
    public static SourceStatus From(JsonElement j) => new(
        j.GetProperty("state").GetString() ?? "",
        j.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null,
        j.GetProperty("changesCaptured").GetInt64(),
        j.GetProperty("changesDurable").GetInt64(),
        j.GetProperty("filesWritten").GetInt64(),
        j.TryGetProperty("confirmedLsn", out var lsn) ? lsn.GetString() ?? "" : "",
        // Absent on a silo without snapshot support; the snapshot part reports that instead of waiting.
        j.TryGetProperty("snapshot", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().Select(TableSnapshot.From).ToArray()
            : null);
}

/// <summary>Initial snapshot progress of one table.</summary>
internal sealed record TableSnapshot(string Table, int ChunksDone, int ChunksTotal, long Rows, double RowsPerSecond, bool Completed)
{
    public static TableSnapshot From(JsonElement j)
    {
        var done = j.GetProperty("chunksDone").GetInt32();
        var total = j.GetProperty("chunksTotal").GetInt32();
        var completed = j.TryGetProperty("completed", out var c) && c.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? c.GetBoolean()
            : done == total;
        return new TableSnapshot(
            j.GetProperty("table").GetString() ?? "", done, total,
            j.TryGetProperty("rows", out var r) ? r.GetInt64() : 0,
            j.TryGetProperty("rowsPerSecond", out var rate) ? rate.GetDouble() : 0,
            // A table not yet split into chunks reports 0/0, which is not "done".
            completed && total > 0);
    }
}

/// <summary>One manifest entry: a durable lake file (partition -1 holds snapshot chunks).</summary>
/// <summary>A lake file of a table's manifest; <paramref name="Level"/> 0 is a file as a partition flushed it, higher levels are compacted files.</summary>
internal sealed record LakeFile(string Key, int Partition, long Rows, DateTimeOffset WrittenAt, int Level);

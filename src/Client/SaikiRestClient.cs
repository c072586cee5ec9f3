using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Client;

/// <summary>
/// The REST API of a Saiki silo, for programs outside the cluster (the <c>saiki</c> CLI, service teams' tooling).
/// Same operations as <see cref="SaikiClient"/>; refusals surface as <see cref="SaikiApiException"/> naming each problem.
/// </summary>
public sealed class SaikiRestClient : IDisposable
{
    /// <summary>JSON as the API writes it: camelCase, enums as names.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly HttpClient _http;

    /// <summary>Talks to the silo at <paramref name="baseAddress"/>, sending <paramref name="token"/> as bearer token when given.</summary>
    public SaikiRestClient(Uri baseAddress, string? token = null, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = baseAddress;
        _http.Timeout = TimeSpan.FromSeconds(30);
        // Marks requests as a client's, not a browser form's: the silo refuses bodiless POSTs without it.
        _http.DefaultRequestHeaders.Add("X-Saiki-Request", "saiki-client");
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Registers a PostgreSQL source (validated by the silo; nothing is created when refused).</summary>
    public async Task<SourceInfo> RegisterPostgresSourceAsync(PostgresSourceSpec spec, CancellationToken ct = default) =>
        await ReadAsync<SourceInfo>(await _http.PostAsJsonAsync("api/sources/postgres", spec, Json, ct), ct);

    /// <summary>Registers a DynamoDB table source (validated by the silo; nothing is created when refused).</summary>
    public async Task<SourceInfo> RegisterDynamoSourceAsync(DynamoSourceSpec spec, CancellationToken ct = default) =>
        await ReadAsync<SourceInfo>(await _http.PostAsJsonAsync("api/sources/dynamodb", spec, Json, ct), ct);

    /// <summary>Starts a failed DynamoDB source over (truncate in the lake, new snapshot, stream from then on).</summary>
    public async Task<SourceInfo> ResnapshotDynamoSourceAsync(string id, CancellationToken ct = default) =>
        await ReadAsync<SourceInfo>(await _http.PostAsync($"api/sources/{Uri.EscapeDataString(id)}/resnapshot", null, ct), ct);

    /// <summary>Adds tables to a running source (incremental snapshot).</summary>
    public async Task<SourceInfo> AddTablesAsync(string id, IReadOnlyList<string> tables, CancellationToken ct = default) =>
        await ReadAsync<SourceInfo>(await _http.PostAsJsonAsync($"api/sources/{Uri.EscapeDataString(id)}/tables", new { tables }, Json, ct), ct);

    /// <summary>All sources with their status.</summary>
    public async Task<IReadOnlyList<SourceInfo>> ListSourcesAsync(CancellationToken ct = default) =>
        await ReadAsync<List<SourceInfo>>(await _http.GetAsync("api/sources", ct), ct);

    /// <summary>One source, or null when none has that id.</summary>
    public async Task<SourceInfo?> GetSourceAsync(string id, CancellationToken ct = default)
    {
        var response = await _http.GetAsync($"api/sources/{Uri.EscapeDataString(id)}", ct);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<SourceInfo>(response, ct);
    }

    /// <summary>Pauses a source's capture (it keeps its position); null when none has that id.</summary>
    public Task<SourceInfo?> PauseSourceAsync(string id, CancellationToken ct = default) => PostOrNullAsync($"api/sources/{Uri.EscapeDataString(id)}/pause", ct);

    /// <summary>Resumes a paused source; null when none has that id.</summary>
    public Task<SourceInfo?> ResumeSourceAsync(string id, CancellationToken ct = default) => PostOrNullAsync($"api/sources/{Uri.EscapeDataString(id)}/resume", ct);

    private async Task<SourceInfo?> PostOrNullAsync(string path, CancellationToken ct)
    {
        var response = await _http.PostAsync(path, null, ct);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<SourceInfo>(response, ct);
    }

    /// <summary>Removes a source; false when none has that id.</summary>
    public Task<bool> RemoveSourceAsync(string id, CancellationToken ct = default) => DeleteAsync($"api/sources/{Uri.EscapeDataString(id)}", ct);

    /// <summary>Registers a business process (validated; nothing is registered when refused).</summary>
    public async Task<ProcessInfo> RegisterProcessAsync(ProcessDefinition definition, CancellationToken ct = default) =>
        await ReadAsync<ProcessInfo>(await _http.PostAsJsonAsync("api/processes", definition, Json, ct), ct);

    /// <summary>All processes with statistics.</summary>
    public async Task<IReadOnlyList<ProcessInfo>> ListProcessesAsync(CancellationToken ct = default) =>
        await ReadAsync<List<ProcessInfo>>(await _http.GetAsync("api/processes", ct), ct);

    /// <summary>One process, or null when none has that name.</summary>
    public async Task<ProcessInfo?> GetProcessAsync(string name, CancellationToken ct = default)
    {
        var response = await _http.GetAsync($"api/processes/{Uri.EscapeDataString(name)}", ct);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<ProcessInfo>(response, ct);
    }

    /// <summary>A process's breaches, newest first.</summary>
    public async Task<BreachPage> GetBreachesAsync(string name, int offset = 0, int limit = 50, CancellationToken ct = default) =>
        await ReadAsync<BreachPage>(await _http.GetAsync($"api/processes/{Uri.EscapeDataString(name)}/breaches?offset={offset}&limit={limit}", ct), ct);

    /// <summary>Removes a process; false when none has that name.</summary>
    public async Task<bool> RemoveProcessAsync(string name, CancellationToken ct = default) =>
        await DeleteAsync($"api/processes/{Uri.EscapeDataString(name)}", ct);

    private async Task<bool> DeleteAsync(string path, CancellationToken ct)
    {
        var response = await _http.DeleteAsync(path, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        await EnsureSuccessAsync(response, ct);
        return true;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new SaikiApiException(response.StatusCode, "the silo answered with an empty body", []);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var problems = new List<string>();
        string? detail = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            if (body.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
            {
                detail = d.GetString();
            }
            if (body.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                problems.AddRange(errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray()).Select(e => e.GetString() ?? ""));
            }
        }
        var message = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "the silo wants a valid token (--token or SAIKI_TOKEN)",
            HttpStatusCode.Forbidden => "the token may not do this",
            _ => detail ?? $"the silo answered {(int)response.StatusCode} {response.ReasonPhrase}",
        };
        throw new SaikiApiException(response.StatusCode, message, problems);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

/// <summary>A request the silo refused, with each problem it named.</summary>
public sealed class SaikiApiException(HttpStatusCode status, string message, IReadOnlyList<string> problems) : Exception(message)
{
    /// <summary>HTTP status of the answer.</summary>
    public HttpStatusCode Status { get; } = status;
    /// <summary>Each problem the silo named (validation errors).</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

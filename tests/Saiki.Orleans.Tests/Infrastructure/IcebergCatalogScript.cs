using System.Diagnostics;
using System.Text.Json;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// Walks an Iceberg REST catalog with iceberg-js (npm, pinned in package.json) through tests/iceberg/catalog.mjs: a
/// client that shares no code with our catalog, so what it sees is what an engine's REST client would see. Needs
/// <c>npm ci</c> in the repository root.
/// </summary>
public static class IcebergCatalogScript
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The script's JSON: <c>namespaces</c>, <c>listings</c>, <c>paged</c>, <c>tables</c> (each with
    /// <c>metadataLocation</c> and <c>metadata</c>), <c>exists</c> and <c>write</c>; see the script's header.
    /// Throws with node's stderr when the walk fails.
    /// </summary>
    /// <param name="baseUrl">The catalog root, without <c>/v1</c> (e.g. <c>http://127.0.0.1:5000/iceberg</c>).</param>
    /// <param name="token">A bearer token to send, if any.</param>
    public static async Task<JsonElement> RunAsync(string baseUrl, string? token = null)
    {
        var root = TestEnvironment.RepositoryRoot;
        if (!Directory.Exists(Path.Combine(root, "node_modules", "iceberg-js")))
        {
            throw new InvalidOperationException($"iceberg-js is not installed: run npm ci --no-audit --no-fund in {root}");
        }
        var start = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine("tests", "iceberg", "catalog.mjs"));
        start.ArgumentList.Add(baseUrl);
        if (token is not null)
        {
            start.ArgumentList.Add("--token");
            start.ArgumentList.Add(token);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"catalog.mjs did not finish walking {baseUrl} within {Timeout}: {await error}");
            }
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"catalog.mjs failed on {baseUrl} (exit code {process.ExitCode}):\n{await error}");
        }
        using var document = JsonDocument.Parse(await output);
        return document.RootElement.Clone();
    }
}

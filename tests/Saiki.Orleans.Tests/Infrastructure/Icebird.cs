using System.Diagnostics;
using System.Text.Json;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// Reads an Iceberg table with icebird (npm, pinned in package.json) through tests/iceberg/read.mjs: a reader that
/// shares no code with ours, so a table it reads correctly is not only consistent with our own reader's
/// assumptions. Needs <c>npm ci</c> in the repository root.
/// </summary>
public static class Icebird
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The script's JSON: <c>rows</c> (BigInt and Date as strings, bytes as hex, missing values as null),
    /// <c>snapshot</c>, <c>files</c> and <c>deleteFiles</c> (live data and delete files). Throws with node's
    /// stderr when the read fails.
    /// </summary>
    /// <param name="metadata">A metadata JSON file path or URL.</param>
    /// <param name="snapshotId">A snapshot to read instead of the current one (time travel).</param>
    /// <param name="rewrites">URL prefixes to map for every request, e.g. s3://bucket/ to a local S3 stand-in.</param>
    public static async Task<JsonElement> ReadAsync(string metadata, long? snapshotId = null, params (string From, string To)[] rewrites)
    {
        var root = TestEnvironment.RepositoryRoot;
        if (!Directory.Exists(Path.Combine(root, "node_modules", "icebird")))
        {
            throw new InvalidOperationException($"icebird is not installed: run npm ci --no-audit --no-fund in {root}");
        }
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        // s3rver serves HTTPS with the services' self-signed certificate.
        if (Environment.GetEnvironmentVariable("SSL_CERT_FILE") is { Length: > 0 } certificates)
        {
            start.Environment["NODE_EXTRA_CA_CERTS"] = certificates;
        }
        start.ArgumentList.Add(Path.Combine("tests", "iceberg", "read.mjs"));
        start.ArgumentList.Add(metadata);
        if (snapshotId is { } id)
        {
            start.ArgumentList.Add("--snapshot");
            start.ArgumentList.Add(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (var (from, to) in rewrites)
        {
            start.ArgumentList.Add("--rewrite");
            start.ArgumentList.Add($"{from}={to}");
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
                throw new TimeoutException($"icebird did not finish reading {metadata} within {Timeout}: {await error}");
            }
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"icebird failed to read {metadata} (exit code {process.ExitCode}):\n{await error}");
        }
        using var document = JsonDocument.Parse(await output);
        return document.RootElement.Clone();
    }
}

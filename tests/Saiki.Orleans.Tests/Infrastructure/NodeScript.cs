using System.Diagnostics;
using System.Text.Json;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>Runs one of the repository's Node checks (tests/…/*.mjs), which print one JSON document; npm packages come from the repository's node_modules.</summary>
public static class NodeScript
{
    /// <summary>
    /// Runs <paramref name="script"/> (relative to the repository root) with <paramref name="arguments"/> and returns the
    /// JSON it printed; throws with node's stderr when it fails, and kills it after <paramref name="timeout"/>.
    /// </summary>
    /// <param name="package">An npm package the script needs, checked first so a missing <c>npm ci</c> says so.</param>
    public static async Task<JsonElement> RunAsync(string script, IEnumerable<string> arguments, string package, TimeSpan timeout)
    {
        var root = TestEnvironment.RepositoryRoot;
        if (!Directory.Exists(Path.Combine(root, "node_modules", package)))
        {
            throw new InvalidOperationException($"{package} is not installed: run npm ci --no-audit --no-fund in {root}");
        }
        var start = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        // s3rver serves HTTPS with the services' self-signed certificate.
        if (Environment.GetEnvironmentVariable("SSL_CERT_FILE") is { Length: > 0 } certificates)
        {
            start.Environment["NODE_EXTRA_CA_CERTS"] = certificates;
        }
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using (var cancel = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{script} {string.Join(' ', start.ArgumentList.Skip(1))} did not finish within {timeout}: {await error}");
            }
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', start.ArgumentList.Skip(1))} failed (exit code {process.ExitCode}):\n{await error}");
        }
        using var document = JsonDocument.Parse(await output);
        return document.RootElement.Clone();
    }
}

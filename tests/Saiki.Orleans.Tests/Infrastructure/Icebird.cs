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
    public static Task<JsonElement> ReadAsync(string metadata, long? snapshotId = null, params (string From, string To)[] rewrites)
    {
        var arguments = new List<string> { metadata };
        if (snapshotId is { } id)
        {
            arguments.AddRange(["--snapshot", id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        foreach (var (from, to) in rewrites)
        {
            arguments.AddRange(["--rewrite", $"{from}={to}"]);
        }
        return NodeScript.RunAsync(Path.Combine("tests", "iceberg", "read.mjs"), arguments, "icebird", Timeout);
    }
}

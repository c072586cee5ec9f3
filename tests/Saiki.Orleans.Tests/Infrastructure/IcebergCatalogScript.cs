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
    public static Task<JsonElement> RunAsync(string baseUrl, string? token = null) =>
        NodeScript.RunAsync(Path.Combine("tests", "iceberg", "catalog.mjs"), token is null ? [baseUrl] : [baseUrl, "--token", token], "iceberg-js", Timeout);
}

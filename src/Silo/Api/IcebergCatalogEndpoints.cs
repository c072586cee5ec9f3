using System.Text.Json;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Silo.Api;

/// <summary>
/// An Iceberg REST catalog (the Apache Iceberg REST OpenAPI, read side) over the lake's Iceberg tables, at
/// <c>/iceberg</c>: Trino, Spark, Snowflake, DuckDB, PyIceberg or Flink point their REST catalog at
/// <c>http://silo:port/iceberg</c> and see every captured table. A source is a namespace, and each PostgreSQL schema
/// of it a child namespace: <c>orders_db.public.orders</c> is table <c>orders</c> in namespace
/// <c>[orders_db, public]</c> (a DynamoDB table, which has no schema, sits in <c>[source]</c>). Loading a table answers
/// its current metadata and where it lives; engines then read the object store directly. Each captured table is two
/// Iceberg tables: <c>orders</c>, the current state (the mirror), and <c>orders_changelog</c>, every change. The tables are Saiki's to
/// write: every write answers 403 in the catalog's error model. Reads need what the rest of the API's reads need.
/// Business events have append-only event tables: an event type's in namespace <c>[_events]</c> (table named as
/// the type), a Kafka source's in <c>[_kafka]</c> (table named as the source); no source id starts with <c>_</c>.
/// </summary>
public static class IcebergCatalogEndpoints
{
    private const char Separator = '\u001f';

    /// <summary>Maps <c>/iceberg/v1/…</c>.</summary>
    public static IEndpointRouteBuilder MapIcebergCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        var catalog = app.MapGroup("/iceberg/v1").WithTags("Iceberg REST catalog").RequireAuthorization(ApiAccess.Read);

        catalog.MapGet("/config", () => Results.Json(new
            {
                Defaults = new Dictionary<string, string>(),
                Overrides = new Dictionary<string, string>(),
                Endpoints = new[]
                {
                    "GET /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}", "HEAD /v1/{prefix}/namespaces/{namespace}",
                    "GET /v1/{prefix}/namespaces/{namespace}/tables", "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                },
            }, Json))
            .WithName("IcebergConfig")
            .WithSummary("Catalog configuration: no prefix, the read endpoints this catalog serves");

        catalog.MapGet("/namespaces", async (HttpContext http, IGrainFactory grains, IOptions<LakeOptions> lake, string? parent, string? pageToken, int? pageSize) =>
            {
                var tables = await IcebergTablesAsync(grains, lake.Value);
                var parentLevels = string.IsNullOrEmpty(parent) ? [] : parent.Split(Separator);
                if (parentLevels.Length > 0 && !tables.Any(t => StartsWith(t.Namespace, parentLevels)))
                {
                    return NoSuchNamespace(parentLevels);
                }
                var children = tables.Where(t => t.Namespace.Length > parentLevels.Length && StartsWith(t.Namespace, parentLevels))
                    .Select(t => t.Namespace[..(parentLevels.Length + 1)])
                    .DistinctBy(n => string.Join(Separator, n))
                    .OrderBy(n => string.Join(Separator, n), StringComparer.Ordinal)
                    .ToArray();
                return Page(children, PageToken(http, pageToken), pageSize, (page, next) => new { Namespaces = page, NextPageToken = next });
            })
            .WithName("IcebergListNamespaces")
            .WithSummary("Namespaces: one per source, and one per PostgreSQL schema under it (parent=source)");

        catalog.MapMethods("/namespaces/{ns}", ["GET", "HEAD"], async (HttpContext http, string ns, IGrainFactory grains, IOptions<LakeOptions> lake) =>
            {
                var levels = ns.Split(Separator);
                if (!(await IcebergTablesAsync(grains, lake.Value)).Any(t => StartsWith(t.Namespace, levels)))
                {
                    return NoSuchNamespace(levels);
                }
                return HttpMethods.IsHead(http.Request.Method)
                    ? Results.NoContent()
                    : Results.Json(new { Namespace = levels, Properties = new Dictionary<string, string>() }, Json);
            })
            .WithName("IcebergLoadNamespace")
            .WithSummary("A namespace (a source, or a schema of one); HEAD tells whether it exists");

        catalog.MapGet("/namespaces/{ns}/tables", async (HttpContext http, string ns, IGrainFactory grains, IOptions<LakeOptions> lake, string? pageToken, int? pageSize) =>
            {
                var levels = ns.Split(Separator);
                var tables = await IcebergTablesAsync(grains, lake.Value);
                if (!tables.Any(t => StartsWith(t.Namespace, levels)))
                {
                    return NoSuchNamespace(levels);
                }
                var identifiers = tables.Where(t => t.Namespace.SequenceEqual(levels))
                    .OrderBy(t => t.Name, StringComparer.Ordinal)
                    .Select(t => new { Namespace = t.Namespace, Name = t.Name })
                    .ToArray();
                return Page(identifiers, PageToken(http, pageToken), pageSize, (page, next) => new { Identifiers = page, NextPageToken = next });
            })
            .WithName("IcebergListTables")
            .WithSummary("The Iceberg tables of a namespace");

        catalog.MapMethods("/namespaces/{ns}/tables/{table}", ["GET", "HEAD"], async (HttpContext http, string ns, string table, IGrainFactory grains, IOptions<LakeOptions> lake) =>
            {
                var levels = ns.Split(Separator);
                var tables = await IcebergTablesAsync(grains, lake.Value);
                if (!tables.Any(t => StartsWith(t.Namespace, levels)))
                {
                    // The spec tells a missing namespace from a missing table; engines report them differently.
                    return NoSuchNamespace(levels);
                }
                var found = tables.FirstOrDefault(t => t.Namespace.SequenceEqual(levels) && t.Name == table);
                // A table is found only once it exists in the store: after its first commit.
                var metadata = found is null ? null : await grains.GetGrain<ILakeTableGrain>($"{found.Source}|{found.Table}").MetadataAsync(found.Mirror);
                if (metadata is not { } current)
                {
                    return Error(StatusCodes.Status404NotFound, "NoSuchTableException", $"table {string.Join('.', levels)}.{table} does not exist (or has no committed snapshot yet)");
                }
                if (HttpMethods.IsHead(http.Request.Method))
                {
                    return Results.NoContent();
                }
                using var document = JsonDocument.Parse(current.Json);
                return Results.Json(new { MetadataLocation = current.Location, Metadata = document.RootElement.Clone(), Config = new Dictionary<string, string>() }, Json);
            })
            .WithName("IcebergLoadTable")
            .WithSummary("A table's current metadata and metadata location; HEAD tells whether it exists");

        // The tables are Saiki's: no engine may create, change, rename or drop them here.
        app.MapMethods("/iceberg/v1/{**path}", ["POST", "PUT", "DELETE"], (string? path) =>
                Error(StatusCodes.Status403Forbidden, "ForbiddenException", $"this catalog is read-only: Saiki writes its tables (refused {path})"))
            .WithTags("Iceberg REST catalog")
            .WithName("IcebergWritesRefused")
            .WithSummary("Every write answers 403 in the catalog's error model");
        return app;
    }

    /// <summary>An Iceberg table of the lake: the source table it holds, which of its two tables, and its catalog identifier.</summary>
    private sealed record CatalogTable(string Source, string Table, bool Mirror, string[] Namespace, string Name);

    /// <summary>Suffix of a changelog table's name: <c>orders</c> is the mirror (current state), <c>orders_changelog</c> every change.</summary>
    public const string ChangelogSuffix = "_changelog";

    /// <summary>Every Iceberg table of every registered source (from the registry: nothing is activated for a name that is not one).</summary>
    private static async Task<IReadOnlyList<CatalogTable>> IcebergTablesAsync(IGrainFactory grains, LakeOptions lake)
    {
        var sources = await grains.GetGrain<ISourceRegistryGrain>(0).ListAsync();
        var events = await grains.GetGrain<IEventTablesGrain>(0).ListAsync();
        return sources.SelectMany(s => s.Tables.Where(t => lake.FormatOf(t) == LakeFormat.Iceberg).SelectMany(t =>
        {
            var dot = t.IndexOf('.', StringComparison.Ordinal);
            var (ns, name) = dot < 0 ? (new[] { s.Id }, t) : (new[] { s.Id, t[..dot] }, t[(dot + 1)..]);
            return new[] { new CatalogTable(s.Id, t, true, ns, name), new CatalogTable(s.Id, t, false, ns, name + ChangelogSuffix) };
        })).Concat(events.Select(e => new CatalogTable(e.Source, e.Table, false, [e.Namespace], e.Name))).ToArray();
    }

    private static bool StartsWith(string[] ns, string[] prefix) => ns.Length >= prefix.Length && ns.Take(prefix.Length).SequenceEqual(prefix);

    /// <summary>
    /// One page of a listing. The spec has a client start paging by sending <c>pageToken</c> (empty at first) and
    /// has a server answer everything when no <c>pageToken</c> is sent, whatever <c>pageSize</c> says: a client that
    /// sends only a page size may not follow <c>next-page-token</c>, and would silently see the first page only.
    /// </summary>
    private static IResult Page<T>(T[] items, string? pageToken, int? pageSize, Func<T[], string?, object> shape)
    {
        var offset = int.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var o) ? o : 0;
        var size = pageToken is not null && pageSize is > 0 ? pageSize.Value : items.Length;
        var page = items.Skip(offset).Take(size).ToArray();
        var next = offset + page.Length < items.Length ? (offset + page.Length).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return Results.Json(shape(page, next), Json);
    }

    /// <summary>The page token, "" for a first page; null when the request did not ask for pages.</summary>
    private static string? PageToken(HttpContext http, string? bound) =>
        http.Request.Query.ContainsKey("pageToken") ? bound ?? "" : null;

    private static IResult NoSuchNamespace(string[] levels) =>
        Error(StatusCodes.Status404NotFound, "NoSuchNamespaceException", $"namespace {string.Join('.', levels)} does not exist");

    /// <summary>The catalog's error model: <c>{"error":{"message","type","code"}}</c>, as JSON.</summary>
    private static IResult Error(int status, string type, string message) =>
        Results.Json(new { Error = new { Message = message, Type = type, Code = status } }, Json, statusCode: status);

    /// <summary>The REST spec's names are kebab-case (<c>next-page-token</c>, <c>metadata-location</c>).</summary>
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower };
}

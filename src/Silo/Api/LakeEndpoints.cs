using Saiki.Orleans.Lake;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Silo.Api;

/// <summary>REST API over the lake's manifest and the partition materializers.</summary>
public static class LakeEndpoints
{
    /// <summary>Maps <c>/api/lake</c>.</summary>
    public static IEndpointRouteBuilder MapLakeEndpoints(this IEndpointRouteBuilder app)
    {
        var lake = app.MapGroup("/api/lake").WithTags("Lake");

        lake.MapGet("/{source}/{table}/files", async (string source, string table, ILakeStore store, LakeLayout layout, CancellationToken ct) =>
            {
                var entries = new List<ManifestEntry>();
                await foreach (var e in new Manifest(store, layout).ListTableAsync(source, table, ct))
                {
                    entries.Add(e);
                }
                return entries.OrderBy(e => e.Partition).ThenBy(e => e.First).ToArray();
            })
            .WithName("ListTableFiles")
            .WithSummary("The manifest of a table: every lake file with its rows, position range and commit-time range");

        lake.MapGet("/{source}/{table}/schemas", async (string source, string table, ILakeStore store, LakeLayout layout, CancellationToken ct) =>
            {
                var schemas = new List<TableSchema>();
                await foreach (var schema in new Manifest(store, layout).ListSchemasAsync(source, table, ct))
                {
                    schemas.Add(schema);
                }
                return schemas;
            })
            .WithName("ListTableSchemas")
            .WithSummary("Every schema version of a table: columns with their PostgreSQL types and the key; manifest entries name the version of each file");

        lake.MapGet("/{source}/{table}/partitions/{partition:int}", (string source, string table, int partition, IGrainFactory grains) =>
                grains.GetGrain<IPartitionGrain>(new PartitionAddress(source, table, partition).ToString()).GetAsync())
            .WithName("GetPartition")
            .WithSummary("A table partition's durable position, counters, buffer and last error");
        return app;
    }
}

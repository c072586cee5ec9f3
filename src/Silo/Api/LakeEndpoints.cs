using Saiki.Orleans.Lake;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Silo.Api;

/// <summary>REST API over the lake's manifest and the partition materializers.</summary>
public static class LakeEndpoints
{
    /// <summary>Maps <c>/api/lake</c>.</summary>
    public static IEndpointRouteBuilder MapLakeEndpoints(this IEndpointRouteBuilder app)
    {
        var lake = app.MapGroup("/api/lake").WithTags("Lake").RequireAuthorization(ApiAccess.Read);

        lake.MapGet("/{source}/{table}/files", async (string source, string table, ILakeStore store, LakeLayout layout, CancellationToken ct, int offset = 0, int limit = 1000) =>
            {
                if (offset < 0 || limit is < 1 or > 10_000)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["paging"] = ["offset must be ≥ 0 and limit between 1 and 10000"] });
                }
                var entries = new List<ManifestEntry>();
                await foreach (var e in new Manifest(store, layout).ListTableAsync(source, table, ct))
                {
                    entries.Add(e);
                }
                return Results.Ok(entries.OrderBy(e => e.Partition).ThenBy(e => e.First).Skip(offset).Take(limit).ToArray());
            })
            .WithName("ListTableFiles")
            .WithSummary("The manifest of a table, paged (offset, limit ≤ 10000, default 1000): every lake file with its rows, position range and commit-time range, by partition and position")
            .Produces<ManifestEntry[]>()
            .ProducesValidationProblem();

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

        lake.MapGet("/{source}/{table}/completeness", async (string source, string table, IGrainFactory grains) =>
                await CapturingAsync(grains, source, table) is { } info
                    ? Results.Ok(new TableCompleteness(table,
                        info.Snapshot.FirstOrDefault(t => t.Table == table) is { Completed: false } ? null : info.CompleteUpTo))
                    : Results.NotFound())
            .WithName("GetTableCompleteness")
            .WithSummary("The table's \"complete up to T\": every change committed at or before T is in the lake's files (null while its snapshot runs)")
            .Produces<TableCompleteness>()
            .Produces(StatusCodes.Status404NotFound);

        lake.MapGet("/{source}/tables", async (string source, IGrainFactory grains) =>
            {
                if (await grains.GetGrain<ISourceRegistryGrain>(0).GetAsync(source) is not { } info)
                {
                    return Results.NotFound();
                }
                var tables = await Task.WhenAll(info.Tables.Select(async table =>
                {
                    var partitions = await Task.WhenAll(Enumerable.Range(0, info.Partitions)
                        .Select(p => grains.GetGrain<IPartitionGrain>(new PartitionAddress(source, table, p).ToString()).GetAsync()));
                    var snapshot = info.Snapshot.FirstOrDefault(t => t.Table == table);
                    return new TableStatus(table, partitions.Sum(p => p.RowsWritten), partitions.Sum(p => p.FilesWritten),
                        partitions.Max(p => p.LastFlush), snapshot, partitions);
                }));
                return Results.Ok(tables);
            })
            .WithName("ListTables")
            .WithSummary("A source's tables: changes and files in the lake, last flush, snapshot progress, and each partition's durable position")
            .Produces<TableStatus[]>()
            .Produces(StatusCodes.Status404NotFound);

        lake.MapGet("/{source}/{table}/iceberg", async (string source, string table, IGrainFactory grains, Microsoft.Extensions.Options.IOptions<LakeOptions> lake, HttpContext http) =>
                // Only a captured table of the Iceberg format: nothing is activated for any other name.
                await CapturingAsync(grains, source, table) is not null && lake.Value.FormatOf(table) == LakeFormat.Iceberg
                    && await grains.GetGrain<ILakeTableGrain>($"{source}|{table}").GetAsync() is { } info
                    ? Results.Ok(info with { LastError = ApiAccess.Detail(http, info.LastError) })
                    : Results.NotFound())
            .WithName("GetIcebergTable")
            .WithSummary("A table's Iceberg tables: metadata locations of changelog and mirror, current snapshot, snapshots kept, live data and delete files, rows, files waiting for the next commit, last commit, schema alerts, why the last commit attempt failed (writers and operators)")
            .Produces<LakeTableInfo>()
            .Produces(StatusCodes.Status404NotFound);

        lake.MapGet("/{source}/{table}/partitions/{partition:int}", async (string source, string table, int partition, IGrainFactory grains) =>
                // Only a partition of a captured table: a name that is none activates nothing (no grain, no lake listing).
                await CapturingAsync(grains, source, table) is { } info && partition >= 0 && partition < info.Partitions
                    ? Results.Ok(await grains.GetGrain<IPartitionGrain>(new PartitionAddress(source, table, partition).ToString()).GetAsync())
                    : Results.NotFound())
            .WithName("GetPartition")
            .WithSummary("A table partition's durable position, counters, buffer and last error")
            .Produces<PartitionInfo>()
            .Produces(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>The source capturing <paramref name="table"/>, from the registry; null when none does (nothing else is asked or activated).</summary>
    private static async Task<SourceInfo?> CapturingAsync(IGrainFactory grains, string source, string table) =>
        await grains.GetGrain<ISourceRegistryGrain>(0).GetAsync(source) is { } info && info.Tables.Contains(table) ? info : null;
}

/// <summary>A captured table's state in the lake.</summary>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="Rows">Changes written to the lake (snapshot chunk rows are counted by <paramref name="Snapshot"/>).</param>
/// <param name="Files">Files written by the table's partitions.</param>
/// <param name="LastFlush">Most recent flush of any partition.</param>
/// <param name="Snapshot">Snapshot progress, when the table was snapshotted.</param>
/// <param name="Partitions">Each partition: durable position, counters, buffer, last error.</param>
public sealed record TableStatus(string Table, long Rows, long Files, DateTimeOffset? LastFlush, TableSnapshotInfo? Snapshot, IReadOnlyList<PartitionInfo> Partitions);

/// <summary>How far a table is complete in the lake.</summary>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="CompleteUpTo">Every change committed at or before this time is in the lake; null while the table's snapshot runs.</param>
public sealed record TableCompleteness(string Table, DateTimeOffset? CompleteUpTo);

using Saiki.Orleans.Client;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Silo.Api;

/// <summary>REST API for sources: the same operations as <see cref="SaikiClient"/>.</summary>
public static class SourceEndpoints
{
    /// <summary>Maps <c>/api/sources</c>.</summary>
    public static IEndpointRouteBuilder MapSourceEndpoints(this IEndpointRouteBuilder app)
    {
        var sources = app.MapGroup("/api/sources").WithTags("Sources").RequireAuthorization(ApiAccess.Read);

        sources.MapPost("/postgres", (PostgresSourceSpec spec, SaikiClient client) => RegisterAsync(() => client.RegisterPostgresSourceAsync(spec)))
            .WithName("RegisterPostgresSource")
            .WithSummary("Register a PostgreSQL source")
            .WithDescription("Validates the database (reachable, wal_level=logical, REPLICATION permission, every table present with a primary key or REPLICA IDENTITY FULL), creates the publication and replication slot, and starts capture. A refused registration answers 400 naming each problem and creates nothing.")
            .Produces<SourceInfo>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapPost("/dynamodb", (DynamoSourceSpec spec, SaikiClient client) => RegisterAsync(() => client.RegisterDynamoSourceAsync(spec)))
            .WithName("RegisterDynamoSource")
            .WithSummary("Register a DynamoDB table source")
            .WithDescription("Validates the table (it exists, its stream is enabled with view type NEW_AND_OLD_IMAGES or NEW_IMAGE), then reads a parallel Scan snapshot (unless snapshot is Never) and the stream, one grain per shard. A refused registration answers 400 naming the problem and creates nothing. accessKeyId/secretAccessKey are optional; without them the silo's AWS credentials are used.")
            .Produces<SourceInfo>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapPost("/{id}/resnapshot", async (string id, SaikiClient client) =>
            {
                try
                {
                    return Results.Ok(await client.ResnapshotDynamoSourceAsync(id));
                }
                catch (SourceValidationException e)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["source"] = e.Problems }, detail: e.Message, title: "The source was not re-snapshotted.");
                }
            })
            .WithName("ResnapshotSource")
            .WithSummary("Start a DynamoDB source over after its stream trimmed unread records")
            .WithDescription("Every lake partition of the table receives a truncate, a new parallel Scan snapshot is written after it, and the stream is read from then on. Use it when the source failed because records were trimmed.")
            .Produces<SourceInfo>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapPost("/{id}/pause", (string id, SaikiClient client) => ChangeStateAsync(() => client.PauseSourceAsync(id), "The source was not paused."))
            .WithName("PauseSource")
            .WithSummary("Pause capture; the source keeps its position and its database keeps the changes")
            .WithDescription("Capture stops and nothing more is read until the source is resumed, also across silo restarts; changes already read still become durable. A PostgreSQL slot retains WAL meanwhile: the source's retained WAL, lag and alert stay reported. Pausing a paused source does nothing; a failed source answers 400.")
            .Produces<SourceInfo>()
            .Produces(StatusCodes.Status404NotFound)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapPost("/{id}/resume", (string id, SaikiClient client) => ChangeStateAsync(() => client.ResumeSourceAsync(id), "The source was not resumed."))
            .WithName("ResumeSource")
            .WithSummary("Resume a paused source from its confirmed position")
            .WithDescription("Capture starts again where the source's checkpoint is; every change made while it was paused is captured exactly once. A source that is not paused answers 400.")
            .Produces<SourceInfo>()
            .Produces(StatusCodes.Status404NotFound)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapPost("/{id}/tables", async (string id, AddTablesRequest request, SaikiClient client) =>
            {
                if (request.Tables is not { Count: > 0 } tables || tables.Any(t => t is null))
                {
                    const string missing = "tables is required: a non-empty list of schema.table names, none of them null";
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["tables"] = [missing] }, detail: missing, title: "The tables were not added.");
                }
                try
                {
                    return Results.Ok(await client.AddTablesAsync(id, request.Tables));
                }
                catch (SourceValidationException e)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["tables"] = e.Problems }, detail: e.Message, title: "The tables were not added.");
                }
            })
            .WithName("AddTables")
            .WithSummary("Add tables to a running source")
            .WithDescription("The tables join the publication; their existing rows are read by an incremental snapshot (DBLog watermarks) while the stream keeps flowing. Progress appears in the source's snapshot list.")
            .Produces<SourceInfo>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        sources.MapGet("/", async (HttpContext http, SaikiClient client, int offset = 0, int limit = 1000) =>
                offset < 0 || limit < 1
                    ? Results.ValidationProblem(new Dictionary<string, string[]> { ["paging"] = ["offset must be ≥ 0 and limit ≥ 1"] })
                    : Results.Ok((await client.ListSourcesAsync()).OrderBy(s => s.Id, StringComparer.Ordinal).Skip(offset).Take(limit).Select(s => ForCaller(http, s))))
            .WithName("ListSources")
            .WithSummary("List registered sources with their status (state, lag, counters, snapshot progress, alerts, errors), by id, paged")
            .Produces<SourceInfo[]>();

        sources.MapGet("/{id}", async (string id, HttpContext http, SaikiClient client) =>
                await client.GetSourceAsync(id) is { } info ? Results.Ok(ForCaller(http, info)) : Results.NotFound())
            .WithName("GetSource")
            .WithSummary("Status of one source: state, confirmed LSN, changes captured and durable, files, lag")
            .Produces<SourceInfo>()
            .Produces(StatusCodes.Status404NotFound);

        sources.MapDelete("/{id}", async (string id, SaikiClient client) =>
                await client.RemoveSourceAsync(id) ? Results.NoContent() : Results.NotFound())
            .WithName("RemoveSource")
            .WithSummary("Stop capture and drop the replication slot and publication; lake files stay")
            .Produces(StatusCodes.Status204NoContent)
            .Produces(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiAccess.Write);
        return app;
    }

    /// <summary>A source's status as the caller may see it: readers get no error text (it names hosts, users, databases).</summary>
    private static SourceInfo ForCaller(HttpContext http, SourceInfo info) => info with { Error = ApiAccess.Detail(http, info.Error) };

    private static async Task<IResult> ChangeStateAsync(Func<Task<SourceInfo?>> change, string refused)
    {
        try
        {
            return await change() is { } info ? Results.Ok(info) : Results.NotFound();
        }
        catch (SourceValidationException e)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["source"] = e.Problems }, detail: e.Message, title: refused);
        }
    }

    private static async Task<IResult> RegisterAsync(Func<Task<SourceInfo>> register)
    {
        try
        {
            var info = await register();
            return Results.Created($"/api/sources/{info.Id}", info);
        }
        catch (SourceValidationException e)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { ["registration"] = e.Problems },
                detail: e.Message, title: "The source registration was refused; nothing was created.");
        }
    }
}

/// <summary>Tables to add to a source.</summary>
/// <param name="Tables">Tables as <c>schema.table</c>.</param>
public sealed record AddTablesRequest(IReadOnlyList<string> Tables);

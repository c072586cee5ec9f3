using Saiki.Orleans.Client;
using Saiki.Orleans.Processes;

namespace Saiki.Orleans.Silo.Api;

/// <summary>REST API for business-process monitoring: the same operations as <see cref="SaikiClient"/>.</summary>
public static class ProcessEndpoints
{
    private const int MAX_PAGE = 500;

    /// <summary>Maps <c>/api/processes</c>.</summary>
    public static IEndpointRouteBuilder MapProcessEndpoints(this IEndpointRouteBuilder app)
    {
        var processes = app.MapGroup("/api/processes").WithTags("Processes").RequireAuthorization(ApiAccess.Read);

        processes.MapPost("/", async (ProcessDefinition definition, SaikiClient client) =>
            {
                try
                {
                    var info = await client.RegisterProcessAsync(definition);
                    return Results.Created($"/api/processes/{info.Name}", info);
                }
                catch (ProcessValidationException e)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["definition"] = e.Problems },
                        detail: e.Message, title: "The process definition was refused; nothing was registered.");
                }
            })
            .WithName("RegisterProcess")
            .WithSummary("Register a business process to monitor")
            .WithDescription("Steps match cleansed change events by source, table, operation and field predicates; the first starts an instance per business key, a terminal step (the last unless marked) completes it, and a step with a deadline is breached when the sources' watermark passes the reference step's time plus the deadline. A refused definition answers 400 naming each problem.")
            .Produces<ProcessInfo>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireAuthorization(ApiAccess.Write);

        processes.MapGet("/", async (HttpContext http, SaikiClient client) => (await client.ListProcessesAsync()).Select(p => ForCaller(http, p)))
            .WithName("ListProcesses")
            .WithSummary("All processes with statistics (counts, per-step cycle-time percentiles, watermark)");

        processes.MapGet("/{name}", async (string name, HttpContext http, SaikiClient client) =>
                await client.GetProcessAsync(name) is { } info ? Results.Ok(ForCaller(http, info)) : Results.NotFound())
            .WithName("GetProcess")
            .WithSummary("One process: definition, started/completed/in flight/breached, per step reached, breached and cycle-time p50/p95/p99")
            .Produces<ProcessInfo>()
            .Produces(StatusCodes.Status404NotFound);

        processes.MapGet("/{name}/breaches", async (string name, SaikiClient client, int offset = 0, int limit = 50) =>
            {
                if (offset is < 0 or > Processes.ProcessGrain.MaxBreachOffset || limit is < 1 or > MAX_PAGE)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["paging"] = [$"offset must be between 0 and {Processes.ProcessGrain.MaxBreachOffset} and limit between 1 and {MAX_PAGE}"] });
                }
                return await client.GetProcessAsync(name) is null ? Results.NotFound() : Results.Ok(await client.GetBreachesAsync(name, offset, limit));
            })
            .WithName("GetBreaches")
            .WithSummary("Missed deadlines, newest first (paged)")
            .Produces<BreachPage>()
            .Produces(StatusCodes.Status404NotFound);

        processes.MapGet("/{name}/instances/{key}", async (string name, string key, SaikiClient client) =>
                await client.GetInstanceAsync(name, key) is { } instance ? Results.Ok(instance) : Results.NotFound())
            .WithName("GetProcessInstance")
            .WithSummary("One instance by business key: status, steps reached (event time) and breaches")
            .Produces<InstanceView>()
            .Produces(StatusCodes.Status404NotFound);

        processes.MapGet("/{name}/series", async (string name, SaikiClient client, int minutes = 60) =>
            {
                if (minutes is < 1 or > 1440)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["minutes"] = ["minutes must be between 1 and 1440"] });
                }
                return await client.GetProcessAsync(name) is null ? Results.NotFound() : Results.Ok(await client.GetSeriesAsync(name, minutes));
            })
            .WithName("GetProcessSeries")
            .WithSummary("Started, completed and breached per minute of event time (kept 24 h)")
            .Produces<ProcessSeries>()
            .Produces(StatusCodes.Status404NotFound);

        processes.MapDelete("/{name}", async (string name, SaikiClient client) =>
                await client.RemoveProcessAsync(name) ? Results.NoContent() : Results.NotFound())
            .WithName("RemoveProcess")
            .WithSummary("Stop monitoring a process and drop its state")
            .Produces(StatusCodes.Status204NoContent)
            .Produces(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiAccess.Write);
        return app;
    }

    /// <summary>A process as the caller may see it: readers get no webhook URL (its path or query may be a secret).</summary>
    private static ProcessInfo ForCaller(HttpContext http, ProcessInfo info) => info with { Webhook = ApiAccess.Detail(http, info.Webhook) };
}

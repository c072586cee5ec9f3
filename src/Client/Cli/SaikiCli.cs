using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Saiki.Orleans.Client;
using Saiki.Orleans.Processes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Cli;

/// <summary>
/// <c>saiki</c>: the service teams' command line. Talks to a silo's REST API (<c>--url</c> or <c>SAIKI_URL</c>,
/// token from <c>--token</c> or <c>SAIKI_TOKEN</c>).
/// </summary>
public static class SaikiCli
{
    /// <summary>Default API address (the embedded silo).</summary>
    public const string DEFAULT_URL = "http://localhost:5080";

    private static readonly Option<Uri> Url = new("--url")
    {
        Description = "Silo REST API address [env SAIKI_URL]",
        Recursive = true,
        DefaultValueFactory = r => ParseUrl(r, Environment.GetEnvironmentVariable("SAIKI_URL") is { Length: > 0 } u ? u : DEFAULT_URL),
        CustomParser = r => ParseUrl(r, r.Tokens.Single().Value),
    };

    private static Uri ParseUrl(System.CommandLine.Parsing.ArgumentResult result, string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }
        result.AddError($"--url '{text}' is not an http(s) address");
        return new Uri(DEFAULT_URL);
    }

    private static readonly Option<string?> Token = new("--token")
    {
        Description = "API token for writes (and reads where required) [env SAIKI_TOKEN]",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SAIKI_TOKEN"),
    };

    /// <summary>Parses and runs one command; returns the exit code (0 ok, 1 refused, failed or bad usage).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool interactive = false)
    {
        var root = new RootCommand("saiki — register and watch Saiki sources (change data capture into the lake and Kafka) and business processes");
        root.Options.Add(Url);
        root.Options.Add(Token);
        root.Subcommands.Add(SourcesCommand(output, interactive));
        root.Subcommands.Add(ProcessesCommand(output));
        var parsed = root.Parse(args);
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (SaikiApiException e)
        {
            await error.WriteLineAsync("error: " + e.Message);
            foreach (var problem in e.Problems)
            {
                await error.WriteLineAsync("  - " + problem);
            }
            return 1;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"error: cannot reach the silo at {parsed.GetValue(Url)}: {e.Message}");
            return 1;
        }
    }

    private static SaikiRestClient Connect(ParseResult parsed) => new(parsed.GetValue(Url)!, parsed.GetValue(Token));

    private static Command SourcesCommand(TextWriter output, bool interactive)
    {
        var sources = new Command("sources", "Register, list, watch and remove sources");

        var list = new Command("list", "List sources with state, lag and progress");
        list.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var all = await client.ListSourcesAsync(ct);
            await output.WriteLineAsync($"{"ID",-20} {"STATE",-12} {"TABLES",6} {"CAPTURED",12} {"DURABLE",12} {"LAG",10} {"LAG S",7}");
            foreach (var s in all)
            {
                await output.WriteLineAsync($"{s.Id,-20} {s.State,-12} {s.Tables.Count,6} {s.ChangesCaptured,12:N0} {s.ChangesDurable,12:N0} {Bytes(s.LagBytes),10} {s.LagSeconds,7:F1}");
            }
            return 0;
        });

        var idArgument = new Argument<string>("id") { Description = "Source id" };
        var show = new Command("status", "Show one source: state, positions, lag, retained WAL, snapshot progress, alerts") { idArgument };
        show.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var id = parsed.GetValue(idArgument)!;
            if (await client.GetSourceAsync(id, ct) is not { } s)
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: no source '{id}'");
                return 1;
            }
            await WriteStatusAsync(output, s);
            return 0;
        });

        var specFile = new Option<FileInfo?>("--file", "-f") { Description = "Registration as JSON (fields as in POST /api/sources/postgres)" };
        var idOption = new Option<string?>("--id") { Description = "Source id (letters, digits, _ and -)" };
        var connection = new Option<string?>("--connection") { Description = "PostgreSQL connection string (needs REPLICATION)" };
        var tables = new Option<string[]>("--table", "-t") { Description = "Table to capture as schema.table (repeat)", AllowMultipleArgumentsPerToken = true };
        var partitions = new Option<int>("--partitions") { Description = "Stream partitions per table", DefaultValueFactory = _ => 4 };
        var snapshot = new Option<SnapshotMode>("--snapshot") { Description = "Initial: snapshot existing rows first; Never: stream only", DefaultValueFactory = _ => SnapshotMode.Initial };
        var register = new Command("register", "Register a PostgreSQL source (validated; nothing is created when refused)")
        {
            specFile, idOption, connection, tables, partitions, snapshot,
        };
        register.Validators.Add(r =>
        {
            if (r.GetValue(specFile) is null && (r.GetValue(idOption) is null || r.GetValue(connection) is null || (r.GetValue(tables)?.Length ?? 0) == 0))
            {
                r.AddError("give --file, or --id, --connection and at least one --table");
            }
        });
        register.SetAction(async (parsed, ct) =>
        {
            var spec = parsed.GetValue(specFile) is { } file
                ? JsonSerializer.Deserialize<PostgresSourceSpec>(await File.ReadAllTextAsync(file.FullName, ct), SaikiRestClient.Json)
                  ?? throw new SaikiApiException(0, $"{file.Name} holds no registration", [])
                : new PostgresSourceSpec(parsed.GetValue(idOption)!, parsed.GetValue(connection)!, parsed.GetValue(tables)!,
                    parsed.GetValue(partitions), parsed.GetValue(snapshot));
            using var client = Connect(parsed);
            var info = await client.RegisterPostgresSourceAsync(spec, ct);
            await output.WriteLineAsync($"registered {info.Id}: {info.Tables.Count} tables, slot {info.Slot}, state {info.State}");
            return 0;
        });

        var dynamoTable = new Option<string?>("--dynamodb-table") { Description = "DynamoDB table (its stream must be enabled with NEW_AND_OLD_IMAGES or NEW_IMAGE)", Required = true };
        var region = new Option<string>("--region") { Description = "AWS region", DefaultValueFactory = _ => "us-east-1" };
        var endpoint = new Option<string?>("--endpoint") { Description = "Endpoint URL for a non-AWS endpoint such as DynamoDB Local (omit for AWS)" };
        var accessKey = new Option<string?>("--access-key-id") { Description = "AWS access key for this source (default: the silo's credentials)" };
        var secretKey = new Option<string?>("--secret-access-key") { Description = "Secret of --access-key-id" };
        var segments = new Option<int>("--scan-segments") { Description = "Segments of the snapshot's parallel Scan", DefaultValueFactory = _ => 4 };
        var registerDynamo = new Command("register-dynamodb", "Register a DynamoDB table source (validated; nothing is created when refused)")
        {
            idOption, dynamoTable, region, endpoint, partitions, snapshot, segments, accessKey, secretKey,
        };
        registerDynamo.Validators.Add(r =>
        {
            if (r.GetValue(idOption) is null)
            {
                r.AddError("give --id");
            }
        });
        registerDynamo.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var info = await client.RegisterDynamoSourceAsync(new DynamoSourceSpec(parsed.GetValue(idOption)!, parsed.GetValue(dynamoTable)!,
                parsed.GetValue(region)!, parsed.GetValue(endpoint), parsed.GetValue(partitions), parsed.GetValue(snapshot),
                parsed.GetValue(accessKey), parsed.GetValue(secretKey), parsed.GetValue(segments)), ct);
            await output.WriteLineAsync($"registered {info.Id}: DynamoDB table {info.Tables[0]}, stream {info.Slot}, state {info.State}");
            return 0;
        });

        var resnapshot = new Command("resnapshot", "Start a failed DynamoDB source over: truncate in the lake, new snapshot, stream from then on") { idArgument };
        resnapshot.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var info = await client.ResnapshotDynamoSourceAsync(parsed.GetValue(idArgument)!, ct);
            await output.WriteLineAsync($"{info.Id}: {info.State}");
            return 0;
        });

        var pause = StateCommand("pause", "Pause a source's capture (it keeps its position; its database keeps the changes)", idArgument, output,
            (client, id, ct) => client.PauseSourceAsync(id, ct));
        var resume = StateCommand("resume", "Resume a paused source from its confirmed position", idArgument, output,
            (client, id, ct) => client.ResumeSourceAsync(id, ct));

        var addTables = new Command("add-tables", "Add tables to a running source (snapshotted while the stream flows)") { idArgument, tables };
        addTables.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var info = await client.AddTablesAsync(parsed.GetValue(idArgument)!, parsed.GetValue(tables) ?? [], ct);
            await output.WriteLineAsync($"{info.Id}: now {info.Tables.Count} tables");
            return 0;
        });

        var remove = RemoveCommand("Stop capture, drop slot and publication (lake files stay)", "source", idArgument, output,
            (client, id, ct) => client.RemoveSourceAsync(id, ct));

        var interval = new Option<TimeSpan>("--interval") { Description = "Poll interval", DefaultValueFactory = _ => TimeSpan.FromSeconds(1) };
        var timeout = new Option<TimeSpan?>("--timeout") { Description = "Give up after this long (exit 1)" };
        var follow = new Command("follow", "Follow a source's snapshot with a progress bar until every table is snapshotted") { idArgument, interval, timeout };
        follow.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var id = parsed.GetValue(idArgument)!;
            var bar = new ProgressBar(output, interactive);
            var deadline = parsed.GetValue(timeout) is { } t ? DateTimeOffset.UtcNow + t : DateTimeOffset.MaxValue;
            while (true)
            {
                if (await client.GetSourceAsync(id, ct) is not { } s)
                {
                    bar.Done();
                    await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: no source '{id}'");
                    return 1;
                }
                var done = s.Snapshot.Sum(x => x.ChunksDone);
                var total = s.Snapshot.Sum(x => x.ChunksTotal);
                var rate = s.Snapshot.Where(x => !x.Completed).Sum(x => x.RowsPerSecond);
                var pending = s.State == SourceState.Snapshotting || total == 0 && s.State == SourceState.Starting;
                bar.Show(total == 0 ? (pending ? 0 : 1) : (double)done / total,
                    $"{done}/{total} chunks, {s.Snapshot.Sum(x => x.Rows):N0} rows, {rate:N0} rows/s, {s.State}");
                if (s.State == SourceState.Failed)
                {
                    bar.Done();
                    await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: source failed: {s.Error}");
                    return 1;
                }
                if (!pending && done == total)
                {
                    bar.Done();
                    await output.WriteLineAsync($"snapshot complete: {s.Snapshot.Sum(x => x.Rows):N0} rows; streaming, lag {Bytes(s.LagBytes)} / {s.LagSeconds:F1} s");
                    return 0;
                }
                if (DateTimeOffset.UtcNow >= deadline)
                {
                    bar.Done();
                    await parsed.InvocationConfiguration.Error.WriteLineAsync("error: timed out before the snapshot completed");
                    return 1;
                }
                await Task.Delay(parsed.GetValue(interval), ct);
            }
        });

        foreach (var command in new[] { list, show, register, registerDynamo, resnapshot, pause, resume, addTables, remove, follow })
        {
            sources.Subcommands.Add(command);
        }
        return sources;
    }

    private static Command ProcessesCommand(TextWriter output)
    {
        var processes = new Command("processes", "Register, list, watch and remove business processes");
        var nameArgument = new Argument<string>("name") { Description = "Process name" };

        var file = new Argument<FileInfo>("file") { Description = "Process definition as JSON (fields as in POST /api/processes)" };
        var register = new Command("register", "Register a process from a JSON definition (validated; nothing is registered when refused)") { file };
        register.SetAction(async (parsed, ct) =>
        {
            var path = parsed.GetValue(file)!;
            ProcessDefinition? definition;
            try
            {
                definition = JsonSerializer.Deserialize<ProcessDefinition>(await File.ReadAllTextAsync(path.FullName, ct), SaikiRestClient.Json);
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                throw new SaikiApiException(0, $"{path.Name} is not a process definition: {e.Message}", []);
            }
            using var client = Connect(parsed);
            var info = await client.RegisterProcessAsync(definition ?? throw new SaikiApiException(0, $"{path.Name} is empty", []), ct);
            await output.WriteLineAsync($"registered {info.Name}: {info.Steps.Count} steps over {info.Partitions} partitions");
            return 0;
        });

        var list = new Command("list", "List processes with started, completed, in flight and breached counts");
        list.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            await output.WriteLineAsync($"{"NAME",-24} {"STEPS",5} {"STARTED",10} {"COMPLETED",10} {"IN FLIGHT",10} {"BREACHED",10}");
            foreach (var p in await client.ListProcessesAsync(ct))
            {
                await output.WriteLineAsync($"{p.Name,-24} {p.Steps.Count,5} {p.Stats.Started,10:N0} {p.Stats.Completed,10:N0} {p.Stats.InFlight,10:N0} {p.Stats.Breached,10:N0}");
            }
            return 0;
        });

        var status = new Command("status", "Show a process: counts, watermark, per step reached, breached and cycle-time percentiles") { nameArgument };
        status.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var name = parsed.GetValue(nameArgument)!;
            if (await client.GetProcessAsync(name, ct) is not { } p)
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: no process '{name}'");
                return 1;
            }
            var st = p.Stats;
            await output.WriteLineAsync($"process     {p.Name} ({p.Partitions} partitions)");
            await output.WriteLineAsync($"instances   {st.Started:N0} started, {st.Completed:N0} completed, {st.InFlight:N0} in flight, {st.Breached:N0} breached");
            await output.WriteLineAsync($"events      {st.LateEvents:N0} late, {st.UnmatchedEvents:N0} without an instance; watermark {st.Watermark?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}");
            foreach (var step in st.Steps)
            {
                var cycle = step.CycleTime is { } c ? $", from {c.From} p50 {c.P50Ms:N0} ms p95 {c.P95Ms:N0} ms p99 {c.P99Ms:N0} ms" : "";
                await output.WriteLineAsync($"step        {step.Step}: {step.Reached:N0} reached, {step.Breached:N0} breached{cycle}");
            }
            return 0;
        });

        var limit = new Option<int>("--limit") { Description = "Breaches to show", DefaultValueFactory = _ => 20 };
        var breaches = new Command("breaches", "Show the newest missed deadlines") { nameArgument, limit };
        breaches.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var page = await client.GetBreachesAsync(parsed.GetValue(nameArgument)!, 0, parsed.GetValue(limit), ct);
            await output.WriteLineAsync($"{page.Total:N0} breaches");
            foreach (var b in page.Items)
            {
                await output.WriteLineAsync($"{b.Key,-20} {b.Step,-14} due {b.Due.ToString("u", CultureInfo.InvariantCulture)} ({b.After} + deadline), detected {b.DetectedAt.ToString("u", CultureInfo.InvariantCulture)}");
            }
            return 0;
        });

        var remove = RemoveCommand("Stop monitoring a process and drop its state", "process", nameArgument, output,
            (client, name, ct) => client.RemoveProcessAsync(name, ct));

        foreach (var command in new[] { register, list, status, breaches, remove })
        {
            processes.Subcommands.Add(command);
        }
        return processes;
    }

    private static Command RemoveCommand(string description, string what, Argument<string> argument, TextWriter output,
        Func<SaikiRestClient, string, CancellationToken, Task<bool>> remove)
    {
        var command = new Command("remove", description) { argument };
        command.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var name = parsed.GetValue(argument)!;
            if (!await remove(client, name, ct))
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: no {what} '{name}'");
                return 1;
            }
            await output.WriteLineAsync($"removed {name}");
            return 0;
        });
        return command;
    }

    /// <summary>A command that changes a source's state and prints the state it is in afterwards.</summary>
    private static Command StateCommand(string name, string description, Argument<string> argument, TextWriter output,
        Func<SaikiRestClient, string, CancellationToken, Task<SourceInfo?>> change)
    {
        var command = new Command(name, description) { argument };
        command.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed);
            var id = parsed.GetValue(argument)!;
            if (await change(client, id, ct) is not { } info)
            {
                await parsed.InvocationConfiguration.Error.WriteLineAsync($"error: no source '{id}'");
                return 1;
            }
            await output.WriteLineAsync($"{info.Id}: {info.State}, confirmed position {info.ConfirmedLsn}");
            return 0;
        });
        return command;
    }

    private static async Task WriteStatusAsync(TextWriter output, SourceInfo s)
    {
        await output.WriteLineAsync($"source      {s.Id} ({s.Kind})");
        await output.WriteLineAsync($"state       {s.State}{(s.Error is null ? "" : " — " + s.Error)}");
        await output.WriteLineAsync($"tables      {string.Join(", ", s.Tables)} ({s.Partitions} partitions each)");
        await output.WriteLineAsync(s.Kind == "dynamodb"
            ? $"stream      {s.Slot} ({s.Publication}), confirmed position {s.ConfirmedLsn}"
            : $"slot        {s.Slot} (publication {s.Publication}), confirmed {s.ConfirmedLsn}");
        await output.WriteLineAsync($"changes     {s.ChangesCaptured:N0} captured, {s.ChangesDurable:N0} durable, {s.FilesWritten:N0} files");
        await output.WriteLineAsync($"lag         {Bytes(s.LagBytes)}, {s.LagSeconds:F1} s; retained WAL {Bytes(s.RetainedWalBytes)}");
        await output.WriteLineAsync($"complete to {s.CompleteUpTo?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}");
        foreach (var t in s.Snapshot)
        {
            await output.WriteLineAsync($"snapshot    {t.Table}: {t.ChunksDone}/{t.ChunksTotal} chunks, {t.Rows:N0} rows{(t.Completed ? "" : $", {t.RowsPerSecond:N0} rows/s")}");
        }
        foreach (var alert in s.Alerts)
        {
            await output.WriteLineAsync($"ALERT       {alert}");
        }
    }

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "-",
        < 1024 => $"{bytes} B",
        < 1 << 20 => $"{bytes / 1024.0:F1} KiB",
        < 1 << 30 => $"{bytes / 1048576.0:F1} MiB",
        _ => $"{bytes / 1073741824.0:F1} GiB",
    };
}

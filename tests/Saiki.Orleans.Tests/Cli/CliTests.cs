using Saiki.Orleans.Cli;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Cli;

/// <summary>The <c>saiki</c> command line against a running silo and real PostgreSQL.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private const string Token = "cli-test-token-0123456789";
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(null, $"--Saiki:Api:WriteTokens:0={Token}", "--Saiki:Pipeline:SiloCredentialTables:0=cli_ddb*");

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => SaikiCliRun([.. args, "--url", _silo.Url.ToString()]);

    [Fact]
    public async Task RegisterFollowListStatusRemove_AgainstARunningSilo()
    {
        await using var db = await TestDatabase.CreateAsync("cli");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.items (id int PRIMARY KEY, v text); INSERT INTO {s}.items SELECT g, md5(g::text) FROM generate_series(1, 20000) g");

        var noToken = await RunAsync("sources", "register", "--id", s, "--connection", db.ConnectionString, "--table", $"{s}.items");
        Assert.Equal(1, noToken.Code);
        Assert.Contains("wants a valid token", noToken.Err);

        var refused = await RunAsync("sources", "register", "--token", Token, "--id", s, "--connection", db.ConnectionString, "--table", $"{s}.items", "--table", $"{s}.missing");
        Assert.Equal(1, refused.Code);
        Assert.Contains($"table {s}.missing does not exist", refused.Err);

        var registered = await RunAsync("sources", "register", "--token", Token, "--id", s, "--connection", db.ConnectionString, "--table", $"{s}.items", "--partitions", "2");
        Assert.True(registered.Code == 0, registered.Err);
        Assert.Contains($"registered {s}: 1 tables", registered.Out);

        var follow = await RunAsync("sources", "follow", s, "--interval", "00:00:00.200", "--timeout", "00:02:00");
        Assert.True(follow.Code == 0, follow.Err);
        var lines = follow.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\[#+\] 100 % \d+/\d+ chunks, 20,000 rows", lines[^2]);
        Assert.Contains("snapshot complete: 20,000 rows; streaming", lines[^1]);

        var list = await RunAsync("sources", "list");
        Assert.Equal(0, list.Code);
        Assert.Matches($@"(?m)^{s}\s+(Running|Snapshotting)\s+1\s", list.Out);

        var status = await RunAsync("sources", "status", s);
        Assert.Equal(0, status.Code);
        Assert.Contains($"slot        saiki_{s}", status.Out);
        Assert.Matches($@"snapshot    {s}\.items: (\d+)/\1 chunks, 20,000 rows", status.Out);

        Assert.Equal(1, (await RunAsync("sources", "status", "nope")).Code);

        var paused = await RunAsync("sources", "pause", s, "--token", Token);
        Assert.True(paused.Code == 0, paused.Err);
        Assert.StartsWith($"{s}: Paused, confirmed position ", paused.Out);
        Assert.DoesNotContain("position 0/0", paused.Out); // at least the snapshot's consistent point
        Assert.Matches($@"(?m)^{s}\s+Paused\s", (await RunAsync("sources", "list")).Out);
        var resumed = await RunAsync("sources", "resume", s, "--token", Token);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.DoesNotContain("Paused", resumed.Out);
        var notPaused = await RunAsync("sources", "resume", s, "--token", Token);
        Assert.Equal(1, notPaused.Code);
        Assert.Contains($"source '{s}' is not paused", notPaused.Err);
        Assert.Equal(1, (await RunAsync("sources", "pause", "nope", "--token", Token)).Code);
        var removed = await RunAsync("sources", "remove", s, "--token", Token);
        Assert.True(removed.Code == 0, removed.Err);
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{s}'"));
        Assert.Equal(1, (await RunAsync("sources", "remove", s, "--token", Token)).Code);
    }

    [Fact]
    public async Task Processes_RegisterListStatusBreachesRemove_AndARefusedDefinitionNamesItsProblem()
    {
        var file = Path.Combine(_silo.Work, "process.json");
        Directory.CreateDirectory(_silo.Work);
        await File.WriteAllTextAsync(file, """
            { "name": "o2c", "partitions": 2, "steps": [
              { "name": "created", "source": "shop", "table": "public.orders", "key": "id" },
              { "name": "paid", "source": "shop", "table": "public.payments", "key": "order_id", "deadline": { "after": "crated", "within": "00:30:00" } } ] }
            """);
        var refused = await RunAsync("processes", "register", file, "--token", Token);
        Assert.Equal(1, refused.Code);
        Assert.Contains("steps[1] (paid): deadline.after 'crated' is not an earlier step", refused.Err);

        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace("crated", "created"));
        Assert.Equal(1, (await RunAsync("processes", "register", file)).Code);
        var registered = await RunAsync("processes", "register", file, "--token", Token);
        Assert.True(registered.Code == 0, registered.Err);
        Assert.Contains("registered o2c: 2 steps over 2 partitions", registered.Out);
        Assert.Matches(@"(?m)^o2c\s+2\s+0\s+0\s+0\s+0\s*$", (await RunAsync("processes", "list")).Out);
        var status = await RunAsync("processes", "status", "o2c");
        Assert.Contains("step        paid: 0 reached, 0 breached", status.Out);
        Assert.Contains("0 breaches", (await RunAsync("processes", "breaches", "o2c")).Out);
        var removed = await RunAsync("processes", "remove", "o2c", "--token", Token);
        Assert.True(removed.Code == 0, removed.Err);
        Assert.Equal(1, (await RunAsync("processes", "status", "o2c")).Code);
    }

    [Fact]
    public async Task RegisterDynamoDb_RefusesATableWithoutStream_AndCapturesOneWithIt()
    {
        await using var noStream = await DynamoTestTable.CreateAsync("cli_nostream", viewType: null);
        await using var table = await DynamoTestTable.CreateAsync("cli_ddb");
        var id = $"cliddb_{Guid.NewGuid():N}"[..15];
        string[] Args(string name) => ["sources", "register-dynamodb", "--token", Token, "--id", id, "--dynamodb-table", name,
            "--endpoint", TestEnvironment.DynamoUrl, "--region", DynamoTestTable.Region, "--snapshot", "Never", "--partitions", "2",
            "--access-key-id", "test", "--secret-access-key", "test"];

        // Without keys a source would read as the silo itself: only tables an operator listed may (cli_ddb* here).
        var notListed = await RunAsync(Args(noStream.Name)[..^4]);
        Assert.Equal(1, notListed.Code);
        Assert.True(notListed.Err.Contains($"table '{noStream.Name}' as the silo itself, and the table is not in Saiki:Pipeline:SiloCredentialTables"), notListed.Err);
        // A listed table is read with the silo's own credentials; this silo has none, which is said plainly.
        var noCredentials = await RunAsync(Args(table.Name)[..^4]);
        Assert.Equal(1, noCredentials.Code);
        Assert.True(noCredentials.Err.Contains("the silo has no AWS credentials to read table"), noCredentials.Err);

        var refused = await RunAsync(Args(noStream.Name));
        Assert.Equal(1, refused.Code);
        Assert.True(refused.Err.Contains($"table '{noStream.Name}' has no stream enabled"), refused.Err);

        var registered = await RunAsync(Args(table.Name));
        Assert.True(registered.Code == 0, registered.Err);
        Assert.Contains($"registered {id}: DynamoDB table {table.Name}, stream arn:aws:dynamodb:", registered.Out);
        await table.PutAsync(DynamoTestTable.Item("a", 1));
        var status = await Eventually.MatchAsync(() => RunAsync("sources", "status", id), r => r.Out.Contains(" 1 durable,"));
        Assert.Contains("captured, 1 durable,", status.Out);
        Assert.Contains("stream      arn:aws:dynamodb:", status.Out);
        var removed = await RunAsync("sources", "remove", id, "--token", Token);
        Assert.True(removed.Code == 0, removed.Err);
    }

    [Fact]
    public async Task BadUsage_IsRefusedWithAMessage_AndHelpDescribesEveryCommand()
    {
        var missing = await RunAsync("sources", "register", "--id", "x");
        Assert.Equal(1, missing.Code);
        Assert.Contains("give --file, or --id, --connection and at least one --table", missing.Err);

        var badUrl = await SaikiCliRun("sources", "list", "--url", "not a url");
        Assert.Equal(1, badUrl.Code);
        Assert.Contains("--url 'not a url' is not an http(s) address", badUrl.Err);

        var unreachable = await SaikiCliRun("sources", "list", "--url", $"http://127.0.0.1:{TestSilo.FreePort()}");
        Assert.Equal(1, unreachable.Code);
        Assert.Contains("cannot reach the silo", unreachable.Err);

        var help = await RunAsync("sources", "--help");
        Assert.Equal(0, help.Code);
        foreach (var command in new[] { "list", "status", "register", "register-dynamodb", "resnapshot", "add-tables", "remove", "follow" })
        {
            Assert.Contains(command, help.Out);
        }
        var processHelp = await RunAsync("processes", "--help");
        foreach (var command in new[] { "register", "list", "status", "breaches", "remove" })
        {
            Assert.Contains(command, processHelp.Out);
        }
    }

    private static async Task<(int Code, string Out, string Err)> SaikiCliRun(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await SaikiCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}

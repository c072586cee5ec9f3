using Amazon.DynamoDBv2.Model;
using Orleans;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Dynamo;

/// <summary>A cluster for DynamoDB capture: streams polled often so tests run quickly.</summary>
public class DynamoCluster : PipelineCluster
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Saiki:Pipeline:StreamPollInterval", "00:00:00.100"),
    ];

    /// <summary>Waits until the lake's replay of the table equals the DynamoDB table, then asserts it and the lake's rules.</summary>
    public Task<LakeReplay> AssertLakeMatchesAsync(DynamoTestTable table, string source, int partitions, TimeSpan? timeout = null) =>
        AssertLakeMatchesAsync(table.ReadTableAsync, source, table.Name, DynamoTestTable.Key, partitions, timeout ?? TimeSpan.FromSeconds(60));
}

public sealed class DynamoCaptureTests(DynamoCluster fixture) : IClassFixture<DynamoCluster>
{
    private static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task InsertsUpdatesDeletes_ReachTheLakeOnceEach_InOrderPerKey()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_crud");
        var id = NewId("ddb");
        var info = await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 3));
        Assert.Equal("dynamodb", info.Kind);
        Assert.Equal([table.Name], info.Tables);

        var writes = 0;
        for (var i = 0; i < 120; i++)
        {
            await table.PutAsync(DynamoTestTable.Item($"k{i % 40}", i, ("amount", new AttributeValue { N = $"{i}.{i:D2}" }), ("status", new AttributeValue { S = "new" })));
            writes++;
        }
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 120; i += 2)
            {
                await table.BumpAsync($"k{i % 40}", i, $"round {round}");
                writes++;
            }
        }
        for (var i = 0; i < 120; i += 5)
        {
            await table.DeleteAsync($"k{i % 40}", i);
            writes++;
        }

        var replay = await fixture.AssertLakeMatchesAsync(table, id, 3);
        // Every write is one change in the lake: nothing lost, nothing twice.
        Assert.Equal(writes, replay.Changes);
        var source = await fixture.Client.GetSourceAsync(id);
        Assert.Equal(SourceState.Running, source!.State);
        Assert.Equal(writes, await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!.ChangesDurable, n => n == writes));
        Assert.NotNull(await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!.CompleteUpTo, t => t is not null));
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
        Assert.Null(await fixture.Client.GetSourceAsync(id));
    }

    [Fact]
    public async Task Snapshot_WithConcurrentWrites_EndsInAnExactTableMatch()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_snap");
        for (var i = 0; i < 600; i++)
        {
            await table.PutAsync(DynamoTestTable.Item($"k{i % 50}", i, ("version", new AttributeValue { N = "0" }), ("payload", new AttributeValue { S = new string('x', i % 97) })));
        }
        var id = NewId("ddbs");
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(11);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var i = random.Next(700);
                switch (n % 5)
                {
                    case 4: await table.DeleteAsync($"k{i % 50}", i); break;
                    default: await table.BumpAsync($"k{i % 50}", i, $"write {n}"); break;
                }
            }
        });
        await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 4, SnapshotMode.Initial, segments: 4));
        var done = await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!, s => s.Snapshot is [{ Completed: true }] && s.State == SourceState.Running);
        Assert.Equal(4, done.Snapshot[0].ChunksTotal);
        await Task.Delay(1500);
        await stop.CancelAsync();
        await writer;

        var replay = await fixture.AssertLakeMatchesAsync(table, id, 4);
        Assert.True(replay.SnapshotRows >= 500, $"snapshot rows: {replay.SnapshotRows}");
        var schemas = new List<TableSchema>();
        await foreach (var schema in new Manifest(fixture.Lake, fixture.Layout).ListSchemasAsync(id, table.Name))
        {
            schemas.Add(schema);
        }
        // Snapshot files: the keys first, then the attributes their items carry.
        Assert.Contains(schemas, s => s.Columns.Select(c => c.Name).Order().SequenceEqual(["payload", "pk", "sk", "version"]));
        Assert.All(schemas, s => Assert.Equal(["pk:S", "sk:N"], s.Columns.Take(2).Select(c => $"{c.Name}:{c.Type}")));
        Assert.All(schemas, s => Assert.Equal([0, 1], s.KeyColumns));
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
    }

    [Fact]
    public async Task EveryAttributeType_RoundTripsThroughTheLake()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_types");
        var first = DynamoTestTable.Item("types", 1, AllTypes());
        await table.PutAsync(first);
        var id = NewId("ddbt");
        await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 1, SnapshotMode.Initial, segments: 1));
        var second = DynamoTestTable.Item("types", 2, AllTypes());
        await table.PutAsync(second);

        var replay = await fixture.AssertLakeMatchesAsync(table, id, 1);
        var schema = await Eventually.MatchAsync(async () =>
        {
            var all = new List<TableSchema>();
            await foreach (var s in new Manifest(fixture.Lake, fixture.Layout).ListSchemasAsync(id, table.Name))
            {
                all.Add(s);
            }
            return all;
        }, all => all.Count > 0);
        // From the snapshot file (item 1) and from the stream (item 2): lake text + column type give back the item.
        foreach (var (key, sk) in new[] { ("types|1", 1), ("types|2", 2) })
        {
            var row = replay.Rows[key];
            var stored = (await table.Client.GetItemAsync(new GetItemRequest { TableName = table.Name, Key = DynamoTestTable.Item("types", sk), ConsistentRead = true })).Item;
            Assert.Equal(2 + AllTypes().Length, stored.Count);
            foreach (var (name, value) in stored)
            {
                var type = schema[0].Columns.Single(c => c.Name == name).Type;
                Assert.Equal(DynamoJsonText(value), DynamoJsonText(DynamoItems.FromText(type, row[name]!)));
            }
        }
        Assert.Equal("N", schema[0].Columns.Single(c => c.Name == "big").Type);
        Assert.Equal("12345678901234567890123456789.012345678", replay.Rows["types|2"]["big"]);
        Assert.Equal("99999999999999999999999999999999999999", System.Text.Json.JsonSerializer.Deserialize<string[]>(replay.Rows["types|1"]["numbers"]!)!.Single(n => n.Length == 38));
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
    }

    private static (string, AttributeValue)[] AllTypes() =>
    [
        ("text", new AttributeValue { S = "héllo \"quoted\"" }),
        ("big", new AttributeValue { N = "12345678901234567890123456789.012345678" }),
        ("small", new AttributeValue { N = "-1E-130" }),
        ("blob", new AttributeValue { B = new MemoryStream([0, 1, 2, 255]) }),
        ("flag", new AttributeValue { BOOL = false }),
        ("nothing", new AttributeValue { NULL = true }),
        ("map", new AttributeValue { M = new() { ["n"] = new() { N = "1.50" }, ["l"] = new() { L = [new() { S = "a" }, new() { BOOL = true }] } } }),
        ("list", new AttributeValue { L = [new() { N = "7" }, new() { M = new() { ["x"] = new() { NULL = true } } }] }),
        ("strings", new AttributeValue { SS = ["a", "b"] }),
        ("numbers", new AttributeValue { NS = ["1", "2.25", "99999999999999999999999999999999999999"] }),
        ("blobs", new AttributeValue { BS = [new MemoryStream([1]), new MemoryStream([2, 3])] }),
    ];

    private static string DynamoJsonText(AttributeValue value)
    {
        var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            DynamoJson.WriteAttributeValue(w, value);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public async Task DisabledStream_FailsTheSourceVisibly_AndAResnapshotStartsItOverExactly()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_resnap");
        var id = NewId("ddbn");
        await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 2));
        for (var i = 0; i < 40; i++)
        {
            await table.PutAsync(DynamoTestTable.Item($"k{i}", i, ("phase", new AttributeValue { S = "one" })));
        }
        await fixture.AssertLakeMatchesAsync(table, id, 2);

        // The stream goes away: what happens now never reaches a stream the source could read.
        await table.Client.UpdateTableAsync(new UpdateTableRequest { TableName = table.Name, StreamSpecification = new StreamSpecification { StreamEnabled = false } });
        var failed = await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!, s => s.State == SourceState.Failed);
        Assert.Equal(SourceState.Failed, failed.State);
        Assert.Contains("was disabled", failed.Error);
        Assert.Contains("re-snapshot", failed.Error);
        var notPausable = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.PauseSourceAsync(id));
        Assert.Contains($"source '{id}' has failed", notPausable.Message);
        for (var i = 0; i < 40; i += 3)
        {
            await table.DeleteAsync($"k{i}", i);
        }
        await table.PutAsync(DynamoTestTable.Item("late", 1000, ("phase", new AttributeValue { S = "unstreamed" })));
        // Still failed, and the lake did not pretend: it lacks the unstreamed changes.
        Assert.Equal(SourceState.Failed, (await fixture.Client.GetSourceAsync(id))!.State);

        await table.Client.UpdateTableAsync(new UpdateTableRequest
        {
            TableName = table.Name, StreamSpecification = new StreamSpecification { StreamEnabled = true, StreamViewType = Amazon.DynamoDBv2.StreamViewType.NEW_AND_OLD_IMAGES },
        });
        var restarted = await fixture.Client.ResnapshotDynamoSourceAsync(id);
        Assert.Equal(SourceState.Snapshotting, restarted.State);
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!, s => s.State == SourceState.Running);
        for (var i = 1; i < 40; i += 3)
        {
            await table.BumpAsync($"k{i}", i, "after the re-snapshot");
        }
        // Truncate, new snapshot, then the new stream: the replay equals the table again.
        var replay = await fixture.AssertLakeMatchesAsync(table, id, 2);
        Assert.True(replay.SnapshotRows > 0);
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
    }

    [Fact]
    public async Task PausedSource_ReadsNothing_ResumedItCatchesUpExactly()
    {
        await using var table = await DynamoTestTable.CreateAsync("ddb_pause");
        var id = NewId("ddbp");
        await fixture.Client.RegisterDynamoSourceAsync(table.Spec(id, partitions: 2));
        for (var i = 0; i < 20; i++)
        {
            await table.PutAsync(DynamoTestTable.Item($"k{i}", i, ("phase", new AttributeValue { S = "one" })));
        }
        await fixture.AssertLakeMatchesAsync(table, id, 2);
        await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!.ChangesDurable, n => n == 20);

        var paused = await fixture.Client.PauseSourceAsync(id);
        Assert.Equal(SourceState.Paused, paused!.State);
        for (var i = 0; i < 20; i += 2)
        {
            await table.BumpAsync($"k{i}", i, "while paused");
        }
        for (var i = 20; i < 30; i++)
        {
            await table.PutAsync(DynamoTestTable.Item($"k{i}", i, ("phase", new AttributeValue { S = "while paused" })));
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        var info = (await fixture.Client.GetSourceAsync(id))!;
        Assert.Equal(SourceState.Paused, info.State);
        Assert.Equal(20, info.ChangesDurable);

        Assert.NotEqual(SourceState.Paused, (await fixture.Client.ResumeSourceAsync(id))!.State);
        var replay = await fixture.AssertLakeMatchesAsync(table, id, 2);
        Assert.Empty(replay.Problems);
        Assert.Equal(40, await Eventually.MatchAsync(async () => (await fixture.Client.GetSourceAsync(id))!.ChangesDurable, n => n >= 40));
        Assert.True(await fixture.Client.RemoveSourceAsync(id));
    }

    [Fact]
    public async Task Registration_IsRefused_ForAMissingTable_ADisabledStream_OrKeysOnlyImages_AndCreatesNothing()
    {
        await using var noStream = await DynamoTestTable.CreateAsync("ddb_nostream", viewType: null);
        await using var keysOnly = await DynamoTestTable.CreateAsync("ddb_keys", viewType: "KEYS_ONLY");
        var id = NewId("ddbr");

        var e = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterDynamoSourceAsync(noStream.Spec(id)));
        Assert.Contains($"table '{noStream.Name}' has no stream enabled", e.Message);
        Assert.Contains("NEW_AND_OLD_IMAGES", e.Message);

        e = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterDynamoSourceAsync(keysOnly.Spec(id)));
        Assert.Contains("view type KEYS_ONLY", e.Message);

        e = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterDynamoSourceAsync(noStream.Spec(id) with { Table = "no_such_table_here" }));
        Assert.Contains("table 'no_such_table_here' does not exist", e.Message);

        e = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterDynamoSourceAsync(noStream.Spec("Bad-Id", partitions: 0)));
        Assert.Contains("source id 'Bad-Id' is invalid", e.Message);
        Assert.Contains("partitions must be between 1 and 256, not 0", e.Message);

        Assert.Null(await fixture.Client.GetSourceAsync(id));
        Assert.DoesNotContain(await fixture.Client.ListSourcesAsync(), s => s.Id == id);
    }
}

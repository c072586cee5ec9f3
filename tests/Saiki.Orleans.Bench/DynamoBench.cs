using System.Diagnostics;
using System.Net.Http.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Saiki.Orleans.Capture.Dynamo;

namespace Saiki.Orleans.Bench;

/// <summary>
/// DynamoDB capture against a plain reader of the same stream, in one run: a table with a stream gets N changes
/// (inserts of N/2 items, then the same items written again with a new status); then a loop of <c>GetRecords</c> (1,000 per call, shards in lineage
/// order) reads all N records — the baseline — and the shipped silo captures the same stream into durable lake
/// files, timed from registration until the source reports N changes durable.
/// </summary>
internal static class DynamoBench
{
    public const string Help = """
          --changes N     stream records to capture (default 50000: N/2 inserts, then N/2 updates)
          --partitions N  lake partitions (default 4)
          --silo PATH     silo dll (default: the Release build of this repository)
        """;

    private static readonly string[] Required = ["dynamodb_rows_per_s", "getrecords_rows_per_s", "dynamodb_ratio_vs_getrecords", "dynamodb_changes", "silo_peak_rss_mb"];

    public static async Task<int> RunAsync(string[] args)
    {
        var changes = MonitoringBench.IntOption(args, "--changes", 50_000) / 2 * 2;
        var partitions = MonitoringBench.IntOption(args, "--partitions", 4);
        var siloIndex = Array.IndexOf(args, "--silo");
        var silo = siloIndex >= 0 && siloIndex + 1 < args.Length ? Path.GetFullPath(args[siloIndex + 1]) : BenchOptions.DefaultSiloDll();
        var url = Environment.GetEnvironmentVariable("SAIKI_DYNAMODB_URL")
                  ?? throw new InvalidOperationException("SAIKI_DYNAMODB_URL is not set; run through scripts/bench.sh dynamodb");
        var results = new BenchResults(Required);
        var work = Directory.CreateTempSubdirectory("saiki-bench-dynamodb-").FullName;
        var credentials = new BasicAWSCredentials("bench", "bench");
        using var client = new AmazonDynamoDBClient(credentials, new AmazonDynamoDBConfig { ServiceURL = url, AuthenticationRegion = "us-east-1" });
        var table = $"bench_{Guid.NewGuid():N}"[..18];
        try
        {
            await client.CreateTableAsync(new CreateTableRequest
            {
                TableName = table, BillingMode = BillingMode.PAY_PER_REQUEST,
                KeySchema = [new KeySchemaElement("id", KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition("id", ScalarAttributeType.S)],
                StreamSpecification = new StreamSpecification { StreamEnabled = true, StreamViewType = StreamViewType.NEW_AND_OLD_IMAGES },
            });
            await WriteAsync(client, table, changes);
            var streamArn = (await client.DescribeTableAsync(table)).Table.LatestStreamArn;

            var baseline = await ReadAllAsync(new DynamoEndpoint(new Uri(url), "us-east-1", credentials), streamArn, changes);
            results.Set("getrecords_rows_per_s", changes / baseline.TotalSeconds, "F0");

            await using var process = await SiloProcess.StartAsync(silo, work, CancellationToken.None,
                // Every record of the benchmark table is older than the registration: none may be skipped.
                "--Saiki:Pipeline:DynamoSnapshotOverlap=1.00:00:00", "--Saiki:Pipeline:StreamPollInterval=00:00:00.050");
            var clock = Stopwatch.StartNew();
            using (var response = await process.Http.PostAsJsonAsync("/api/sources/dynamodb", new
                   {
                       id = "bench", table, region = "us-east-1", endpoint = url, partitions, snapshot = "Never",
                       accessKeyId = "bench", secretAccessKey = "bench",
                   }))
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"registration answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
            var sinceLog = Stopwatch.StartNew();
            while (true)
            {
                var status = await process.Api.GetSourceAsync("bench", CancellationToken.None)
                             ?? throw new InvalidOperationException("the source disappeared");
                process.SampleRssMb();
                if (status.ChangesDurable >= changes)
                {
                    break;
                }
                if (status.State == "Failed" || clock.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new InvalidOperationException($"capture stopped at {status.ChangesDurable:N0} of {changes:N0} durable ({status.State}: {status.Error}); {process.LogTail()}");
                }
                if (sinceLog.Elapsed > TimeSpan.FromSeconds(2))
                {
                    Log.Info($"saiki: {status.ChangesDurable:N0}/{changes:N0} durable, {status.ChangesDurable / clock.Elapsed.TotalSeconds:F0} rows/s");
                    sinceLog.Restart();
                }
                await Task.Delay(50);
            }
            var saiki = clock.Elapsed;
            results.Set("dynamodb_rows_per_s", changes / saiki.TotalSeconds, "F0");
            results.Set("dynamodb_ratio_vs_getrecords", baseline.TotalSeconds / saiki.TotalSeconds, "F3");
            results.Set("silo_peak_rss_mb", process.PeakRssMb, "F0");
            results.Set("dynamodb_changes", changes, "F0");
            await process.StopAsync();
        }
        catch (Exception e)
        {
            results.Fail("dynamodb", e.Message);
        }
        finally
        {
            try
            {
                await client.DeleteTableAsync(table);
            }
            catch (AmazonServiceException)
            {
            }
            Directory.Delete(work, recursive: true);
        }
        results.Print(Console.Out);
        return results.Failed ? 1 : 0;
    }

    /// <summary>N/2 items with BatchWriteItem from 4 writers, then the same items again with a new status (N stream records).</summary>
    private static async Task WriteAsync(AmazonDynamoDBClient client, string table, int changes)
    {
        var items = changes / 2;
        var clock = Stopwatch.StartNew();
        foreach (var status in new[] { "new", "paid" })
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, (items + 24) / 25), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, ct) =>
            {
                var requests = Enumerable.Range(batch * 25, Math.Min(25, items - batch * 25)).Select(i => new WriteRequest(new PutRequest(new Dictionary<string, AttributeValue>
                {
                    ["id"] = new() { S = $"order-{i:D8}" }, ["amount"] = new() { N = $"{i}.{i % 100:D2}" },
                    ["status"] = new() { S = status }, ["customer"] = new() { S = $"customer-{i % 977}" },
                }))).ToList();
                var pending = new Dictionary<string, List<WriteRequest>> { [table] = requests };
                while (pending.Count > 0)
                {
                    var response = await client.BatchWriteItemAsync(pending, ct);
                    pending = response.UnprocessedItems is { Count: > 0 } left ? left : [];
                }
            });
        }
        Log.Info($"workload: {changes:N0} changes written in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>The baseline: GetRecords until every record is read, parents before children.</summary>
    private static async Task<TimeSpan> ReadAllAsync(DynamoEndpoint endpoint, string streamArn, int changes)
    {
        using var streams = new DynamoStreamsClient(endpoint);
        var clock = Stopwatch.StartNew();
        var shards = (await streams.DescribeStreamAsync(streamArn, default)).Shards;
        var read = 0;
        foreach (var shard in shards.OrderBy(s => s.ParentShardId is null ? 0 : 1))
        {
            var iterator = await streams.GetShardIteratorAsync(streamArn, shard.ShardId, ShardIteratorType.TrimHorizon, null, default);
            while (iterator is not null && read < changes)
            {
                var page = await streams.GetRecordsAsync(iterator, 1000, default);
                read += page.Records.Count;
                iterator = page.Records.Count == 0 && !shard.IsClosed && read >= changes ? null : page.NextShardIterator;
            }
        }
        if (read < changes)
        {
            throw new InvalidOperationException($"GetRecords read {read:N0} records, expected {changes:N0}");
        }
        Log.Info($"baseline: {read:N0} records by GetRecords in {clock.Elapsed.TotalSeconds:F2} s");
        return clock.Elapsed;
    }
}

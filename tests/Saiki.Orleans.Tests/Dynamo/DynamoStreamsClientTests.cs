using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Dynamo;

/// <summary>
/// A table with one item of every attribute type, changed by insert, insert, update and delete, in DynamoDB Local.
/// Its stream is read by the tests and never written to again.
/// </summary>
public sealed class ChangedTableFixture : IAsyncLifetime
{
    private static readonly byte[] Bytes = [0, 1, 2, 127, 128, 254, 255];

    public DynamoTestTable Table { get; private set; } = null!;
    public string StreamArn { get; private set; } = null!;
    public DateTimeOffset WrittenFrom { get; private set; }
    public DateTimeOffset WrittenTo { get; private set; }

    /// <summary>The changes in the order they were made: event name, keys, new image, old image.</summary>
    public List<(string EventName, Dictionary<string, AttributeValue> Keys, Dictionary<string, AttributeValue>? NewImage, Dictionary<string, AttributeValue>? OldImage)> Changes { get; } = [];

    /// <summary>An item with every attribute type, nested ones and the extremes of precision included.</summary>
    public static Dictionary<string, AttributeValue> EveryType() => DynamoTestTable.Item("a", 1,
        ("s", new() { S = "héllo \"wörld\"\n\t✓" }),
        ("n", new() { N = "12345678901234567890.123456789012345678" }),
        ("big", new() { N = "99999999999999999999999999999999999999" }),
        ("neg", new() { N = "-0.5" }),
        ("b", new() { B = new MemoryStream(Bytes) }),
        ("yes", new() { BOOL = true }),
        ("no", new() { BOOL = false }),
        ("nothing", new() { NULL = true }),
        ("m", new()
        {
            M = new()
            {
                ["inner"] = new() { S = "x" },
                ["deep"] = new() { M = new() { ["n"] = new() { N = "0.000000000000000000000000000000000001" }, ["l"] = new() { L = [new() { B = new MemoryStream(Bytes) }] } } },
                ["empty"] = new() { M = [] },
            },
        }),
        ("l", new() { L = [new() { S = "one" }, new() { N = "2" }, new() { BOOL = false }, new() { NULL = true }, new() { L = [] }, new() { M = [] }, new() { SS = ["q"] }] }),
        ("ss", new() { SS = ["x", "y", "z"] }),
        ("ns", new() { NS = ["1", "2.5", "-3", "12345678901234567890123456789012345678"] }),
        ("bs", new() { BS = [new MemoryStream([1]), new MemoryStream([2, 3]), new MemoryStream(Bytes)] }));

    public async Task InitializeAsync()
    {
        Table = await DynamoTestTable.CreateAsync("streams");
        StreamArn = (await Table.Client.DescribeTableAsync(Table.Name)).Table.LatestStreamArn;
        WrittenFrom = DateTimeOffset.UtcNow;

        var a = EveryType();
        await Table.PutAsync(a);
        Changes.Add(("INSERT", Keys(a), a, null));

        var b = DynamoTestTable.Item("b", 2, ("s", new() { S = "bee" }));
        await Table.PutAsync(b);
        Changes.Add(("INSERT", Keys(b), b, null));

        await Table.Client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = Table.Name,
            Key = Keys(a),
            UpdateExpression = "SET s = :s REMOVE #no",
            ExpressionAttributeNames = new() { ["#no"] = "no" },
            ExpressionAttributeValues = new() { [":s"] = new() { S = "changed" } },
        });
        var updated = EveryType();
        updated["s"] = new() { S = "changed" };
        updated.Remove("no");
        Changes.Add(("MODIFY", Keys(a), updated, EveryType()));

        await Table.DeleteAsync("b", 2);
        Changes.Add(("REMOVE", Keys(b), null, b));
        WrittenTo = DateTimeOffset.UtcNow;
    }

    public async Task DisposeAsync() => await Table.DisposeAsync();

    private static Dictionary<string, AttributeValue> Keys(Dictionary<string, AttributeValue> item) =>
        DynamoTestTable.Key.ToDictionary(k => k, k => item[k]);
}

public sealed class DynamoStreamsClientTests(ChangedTableFixture table) : IClassFixture<ChangedTableFixture>
{
    private static readonly BasicAWSCredentials Credentials = new("test", "test");

    private static DynamoEndpoint Endpoint(AWSCredentials? credentials = null) =>
        new(new Uri(TestEnvironment.DynamoUrl), DynamoTestTable.Region, credentials ?? Credentials);

    [Fact]
    public async Task DescribeStream_ListsTheTableAndItsOpenShard()
    {
        using var client = new DynamoStreamsClient(Endpoint());

        var stream = await client.DescribeStreamAsync(table.StreamArn, default);

        Assert.Equal(table.StreamArn, stream.StreamArn);
        Assert.Equal("ENABLED", stream.StreamStatus);
        Assert.Equal("NEW_AND_OLD_IMAGES", stream.StreamViewType);
        Assert.Equal(table.Table.Name, stream.TableName);
        var shard = Assert.Single(stream.Shards);
        Assert.False(shard.IsClosed);
        Assert.Null(shard.EndingSequenceNumber);
        Assert.Matches("^[0-9]+$", shard.StartingSequenceNumber);
        Assert.False(string.IsNullOrEmpty(shard.ShardId));
    }

    [Fact]
    public async Task TrimHorizon_ReadsEveryChangeInOrder_WithItsKeysAndImagesExactly()
    {
        using var client = new DynamoStreamsClient(Endpoint());

        // A limit of 3 makes the four records two pages.
        var records = await ReadAllAsync(client, ShardIteratorType.TrimHorizon, null, limit: 3);

        Assert.Equal(table.Changes.Select(c => c.EventName), records.Select(r => r.EventName));
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(Canonical(table.Changes[i].Keys), Canonical(records[i].Keys));
            Assert.Equal(Canonical(table.Changes[i].NewImage), Canonical(records[i].NewImage));
            Assert.Equal(Canonical(table.Changes[i].OldImage), Canonical(records[i].OldImage));
            // DynamoDB Local rounds the time down to the minute, as DynamoDB Streams did at first.
            Assert.InRange(records[i].ApproximateCreationDateTime, table.WrittenFrom.AddMinutes(-1), table.WrittenTo.AddSeconds(1));
            Assert.True(records[i].SizeBytes > 0);
        }
        var sequence = records.Select(r => BigInteger.Parse(r.SequenceNumber, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sequence.Order(), sequence);
        Assert.Equal(sequence.Count, sequence.Distinct().Count());

        // Spot checks of the typed values, beyond the canonical JSON.
        var inserted = records[0].NewImage!;
        Assert.Equal("12345678901234567890.123456789012345678", inserted["n"].N);
        Assert.Equal("99999999999999999999999999999999999999", inserted["big"].N);
        Assert.Equal(new byte[] { 0, 1, 2, 127, 128, 254, 255 }, inserted["b"].B.ToArray());
        Assert.False(inserted["no"].BOOL);
        Assert.True(inserted["no"].IsBOOLSet);
        Assert.True(inserted["nothing"].NULL);
        Assert.True(inserted["m"].M["empty"].IsMSet);
        Assert.Empty(inserted["m"].M["empty"].M);
        Assert.Equal("héllo \"wörld\"\n\t✓", inserted["s"].S);
        Assert.Equal("changed", records[2].NewImage!["s"].S);
        Assert.False(records[2].NewImage!.ContainsKey("no"));
        Assert.Null(records[3].NewImage);
    }

    [Fact]
    public async Task AfterAndAtSequenceNumber_ResumeAtTheRightRecord()
    {
        using var client = new DynamoStreamsClient(Endpoint());
        var all = await ReadAllAsync(client, ShardIteratorType.TrimHorizon, null, limit: 1000);
        Assert.Equal(4, all.Count);

        var after = await ReadAllAsync(client, ShardIteratorType.AfterSequenceNumber, all[1].SequenceNumber, limit: 1000);
        Assert.Equal(all.Skip(2).Select(r => r.SequenceNumber), after.Select(r => r.SequenceNumber));
        Assert.Equal(["MODIFY", "REMOVE"], after.Select(r => r.EventName));

        var at = await ReadAllAsync(client, ShardIteratorType.AtSequenceNumber, all[1].SequenceNumber, limit: 1000);
        Assert.Equal(all.Skip(1).Select(r => r.SequenceNumber), at.Select(r => r.SequenceNumber));

        var afterLast = await ReadAllAsync(client, ShardIteratorType.AfterSequenceNumber, all[^1].SequenceNumber, limit: 1000);
        Assert.Empty(afterLast);
    }

    [Fact]
    public async Task Latest_ReadsOnlyTheChangesMadeAfterwards()
    {
        await using var own = await DynamoTestTable.CreateAsync("latest");
        await own.PutAsync(DynamoTestTable.Item("before", 1));
        var arn = (await own.Client.DescribeTableAsync(own.Name)).Table.LatestStreamArn;
        using var client = new DynamoStreamsClient(Endpoint());
        var shard = Assert.Single((await client.DescribeStreamAsync(arn, default)).Shards);
        var iterator = await client.GetShardIteratorAsync(arn, shard.ShardId, ShardIteratorType.Latest, null, default);

        await own.PutAsync(DynamoTestTable.Item("after", 2));
        var page = await client.GetRecordsAsync(iterator, 100, default);

        var record = Assert.Single(page.Records);
        Assert.Equal("INSERT", record.EventName);
        Assert.Equal("after", record.Keys["pk"].S);
        Assert.Equal("2", record.Keys["sk"].N);
        Assert.Null(record.OldImage);
        Assert.NotNull(page.NextShardIterator);
    }

    [Fact]
    public async Task UnknownStream_IsResourceNotFound()
    {
        using var client = new DynamoStreamsClient(Endpoint());
        var unknown = table.StreamArn.Replace(table.Table.Name, "no_such_table_" + Guid.NewGuid().ToString("N")[..8], StringComparison.Ordinal);
        Assert.NotEqual(table.StreamArn, unknown);

        var describe = await Assert.ThrowsAsync<DynamoStreamsException>(() => client.DescribeStreamAsync(unknown, default));
        Assert.Equal(DynamoStreamsError.ResourceNotFound, describe.Error);
        Assert.Equal("ResourceNotFoundException", describe.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, describe.Status);
        Assert.StartsWith("DynamoDB Streams DescribeStream failed: ResourceNotFoundException (HTTP 400)", describe.Message);
        Assert.False(describe.IsRetryable);

        var iterator = await Assert.ThrowsAsync<DynamoStreamsException>(() =>
            client.GetShardIteratorAsync(unknown, "shardId-00000000000000000000-00000000", ShardIteratorType.TrimHorizon, null, default));
        Assert.Equal(DynamoStreamsError.ResourceNotFound, iterator.Error);
    }

    [Fact]
    public async Task GarbageIterator_IsAnErrorNamingTheOperationAndTheAwsCode()
    {
        using var client = new DynamoStreamsClient(Endpoint());

        var e = await Assert.ThrowsAsync<DynamoStreamsException>(() => client.GetRecordsAsync("not-an-iterator", 10, default));

        // DynamoDB Local answers {"__type":"com.amazon.coral.validate#ValidationException","Message":"Invalid ShardIterator"}.
        Assert.Equal("GetRecords", e.Operation);
        Assert.Equal("ValidationException", e.ErrorCode);
        Assert.Equal(DynamoStreamsError.Other, e.Error);
        Assert.False(e.IsRetryable);
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Equal("DynamoDB Streams GetRecords failed: ValidationException (HTTP 400): Invalid ShardIterator", e.Message);
    }

    [Fact]
    public async Task Arguments_AreCheckedBeforeAnyRequest()
    {
        using var client = new DynamoStreamsClient(Endpoint());
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetShardIteratorAsync(table.StreamArn, "s", ShardIteratorType.AfterSequenceNumber, null, default));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetShardIteratorAsync(table.StreamArn, "s", ShardIteratorType.TrimHorizon, "1", default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetRecordsAsync("it", 0, default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetRecordsAsync("it", 1001, default));
    }

    [Fact]
    public async Task Requests_CarryExactlyTheHeadersTheyAreSignedWith_IncludingTheSessionToken()
    {
        var recorder = new RecordingHandler();
        using var http = new HttpClient(recorder);
        var credentials = new SessionAWSCredentials("ASIAKEY", "secret", "session/token+=");
        using var client = new DynamoStreamsClient(Endpoint(credentials), http);

        var shard = (await client.DescribeStreamAsync(table.StreamArn, default)).Shards[0];
        var iterator = await client.GetShardIteratorAsync(table.StreamArn, shard.ShardId, ShardIteratorType.TrimHorizon, null, default);
        await client.GetRecordsAsync(iterator, 1, default);
        await Assert.ThrowsAsync<DynamoStreamsException>(() => client.GetRecordsAsync("garbage", 1, default));

        Assert.Equal(["DescribeStream", "GetShardIterator", "GetRecords", "GetRecords"], recorder.Requests.Select(r => r.Target["DynamoDBStreams_20120810.".Length..]));
        var immutable = await credentials.GetCredentialsAsync();
        foreach (var r in recorder.Requests)
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("application/x-amz-json-1.0", r.ContentType);
            Assert.Equal("session/token+=", r.SecurityToken);
            Assert.StartsWith($"AWS4-HMAC-SHA256 Credential=ASIAKEY/{r.AmzDate[..8]}/us-east-1/dynamodb/aws4_request, " +
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=", r.Authorization);
            var time = DateTimeOffset.ParseExact(r.AmzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var again = SigV4.Sign("POST", r.Url, [new("Content-Type", r.ContentType), new("X-Amz-Target", r.Target)], r.Body, immutable, "us-east-1", "dynamodb", time);
            Assert.Equal(again.Authorization, r.Authorization);
        }
        using var body = JsonDocument.Parse(recorder.Requests[2].Body);
        Assert.Equal(iterator, body.RootElement.GetProperty("ShardIterator").GetString());
        Assert.Equal(1, body.RootElement.GetProperty("Limit").GetInt32());
    }

    [Fact]
    public void DynamoJson_RoundTripsEveryType()
    {
        var json = Write(new AttributeValue { M = ChangedTableFixture.EveryType() });
        using var doc = JsonDocument.Parse(json);
        var read = DynamoJson.ReadAttributeValue(doc.RootElement);

        Assert.Equal(json, Write(read));
        var m = read.M;
        Assert.Equal("12345678901234567890.123456789012345678", m["n"].N);
        Assert.Equal("0.000000000000000000000000000000000001", m["m"].M["deep"].M["n"].N);
        Assert.Equal(new byte[] { 0, 1, 2, 127, 128, 254, 255 }, m["b"].B.ToArray());
        Assert.Equal(new byte[] { 0, 1, 2, 127, 128, 254, 255 }, m["m"].M["deep"].M["l"].L[0].B.ToArray());
        Assert.True(m["yes"].BOOL);
        Assert.False(m["no"].BOOL);
        Assert.True(m["no"].IsBOOLSet);
        Assert.True(m["nothing"].NULL);
        Assert.True(m["m"].M["empty"].IsMSet);
        Assert.True(m["l"].L[4].IsLSet);
        Assert.Empty(m["l"].L[4].L);
        Assert.Equal(["x", "y", "z"], m["ss"].SS);
        Assert.Equal(["1", "2.5", "-3", "12345678901234567890123456789012345678"], m["ns"].NS);
        Assert.Equal(new[] { new byte[] { 1 }, [2, 3] }, m["bs"].BS.Take(2).Select(s => s.ToArray()));
        Assert.Equal("héllo \"wörld\"\n\t✓", m["s"].S);

        // The wire form of the scalars, exactly.
        Assert.Equal("{\"N\":\"-0.5\"}", Write(m["neg"]));
        Assert.Equal("{\"B\":\"AAECf4D+/w==\"}", Write(m["b"]).Replace("\\u002B", "+", StringComparison.Ordinal));
        Assert.Equal("{\"BOOL\":false}", Write(m["no"]));
        Assert.Equal("{\"NULL\":true}", Write(m["nothing"]));
        Assert.Equal("{\"M\":{}}", Write(m["m"].M["empty"]));
        Assert.Equal("{\"L\":[]}", Write(m["l"].L[4]));
    }

    [Theory]
    [InlineData("{\"S\":\"a\",\"N\":\"1\"}")]
    [InlineData("{\"X\":\"a\"}")]
    [InlineData("{\"NULL\":false}")]
    [InlineData("\"S\"")]
    public void DynamoJson_RejectsWhatIsNotOneTypedValue(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Throws<InvalidDataException>(() => DynamoJson.ReadAttributeValue(doc.RootElement));
    }

    [Fact]
    public void DynamoJson_ReadsAnEmptyObjectAsAnEmptyMap_AsDynamoDbLocalStreamsSendIt()
    {
        using var doc = JsonDocument.Parse("{\"L\":[{},{\"M\":{\"e\":{}}}]}");
        var v = DynamoJson.ReadAttributeValue(doc.RootElement);
        Assert.Equal("{\"L\":[{\"M\":{}},{\"M\":{\"e\":{\"M\":{}}}}]}", Write(v));
    }

    [Fact]
    public void DynamoJson_RefusesToWriteAValueWithoutAType()
    {
        Assert.Throws<InvalidDataException>(() => Write(new AttributeValue()));
        Assert.Throws<InvalidDataException>(() => Write(new AttributeValue { NULL = false }));
    }

    [Theory]
    [InlineData("ExpiredIteratorException", 400, DynamoStreamsError.ExpiredIterator)]
    [InlineData("TrimmedDataAccessException", 400, DynamoStreamsError.TrimmedDataAccess)]
    [InlineData("ResourceNotFoundException", 400, DynamoStreamsError.ResourceNotFound)]
    [InlineData("LimitExceededException", 400, DynamoStreamsError.Throttled)]
    [InlineData("ThrottlingException", 400, DynamoStreamsError.Throttled)]
    [InlineData("ProvisionedThroughputExceededException", 400, DynamoStreamsError.Throttled)]
    [InlineData("RequestLimitExceeded", 400, DynamoStreamsError.Throttled)]
    [InlineData("InternalServerError", 500, DynamoStreamsError.Throttled)]
    [InlineData("ServiceUnavailable", 503, DynamoStreamsError.Throttled)]
    [InlineData("ValidationException", 400, DynamoStreamsError.Other)]
    [InlineData("AccessDeniedException", 400, DynamoStreamsError.Other)]
    public void ErrorCodes_MapToTheirKind(string code, int status, DynamoStreamsError expected)
    {
        var e = new DynamoStreamsException("GetRecords", code, "why", (HttpStatusCode)status);
        Assert.Equal(expected, e.Error);
        Assert.Equal(expected == DynamoStreamsError.Throttled, e.IsRetryable);
        Assert.Equal($"DynamoDB Streams GetRecords failed: {code} (HTTP {status}): why", e.Message);
    }

    [Fact]
    public void CreationTimes_AreEpochSecondsToTheMillisecond_AndTheAwsEndpointFollowsTheRegion()
    {
        Assert.Equal(new DateTimeOffset(2024, 11, 27, 4, 0, 0, 123, TimeSpan.Zero), DynamoStreamsClient.FromEpochSeconds(1732680000.1234m));
        Assert.Equal(new DateTimeOffset(2024, 11, 27, 4, 0, 0, TimeSpan.Zero), DynamoStreamsClient.FromEpochSeconds(1732680000m));

        Assert.Equal(new Uri("https://streams.dynamodb.eu-central-1.amazonaws.com/"), new DynamoEndpoint(null, "eu-central-1", Credentials).StreamsUrl);
        Assert.Equal(new Uri("https://streams.dynamodb.cn-north-1.amazonaws.com.cn/"), new DynamoEndpoint(null, "cn-north-1", Credentials).StreamsUrl);
        Assert.Equal(new Uri("http://127.0.0.1:8000/"), new DynamoEndpoint(new Uri("http://127.0.0.1:8000/"), "us-east-1", Credentials).StreamsUrl);
    }

    /// <summary>Every record of the stream's shards from an iterator of the given type, until a page comes back empty.</summary>
    private async Task<List<StreamRecord>> ReadAllAsync(DynamoStreamsClient client, ShardIteratorType type, string? sequenceNumber, int limit)
    {
        var records = new List<StreamRecord>();
        foreach (var shard in (await client.DescribeStreamAsync(table.StreamArn, default)).Shards)
        {
            var iterator = await client.GetShardIteratorAsync(table.StreamArn, shard.ShardId, type, sequenceNumber, default);
            while (iterator is not null)
            {
                var page = await client.GetRecordsAsync(iterator, limit, default);
                records.AddRange(page.Records);
                iterator = page.Records.Count == 0 ? null : page.NextShardIterator;
            }
        }
        return records;
    }

    private static string Write(AttributeValue v)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            DynamoJson.WriteAttributeValue(w, v);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>DynamoDB JSON of an item with map members and set elements sorted (sets have no order); "null" for none.</summary>
    private static string Canonical(Dictionary<string, AttributeValue>? item)
    {
        if (item is null)
        {
            return "null";
        }
        return Sorted(JsonNode.Parse(Write(new AttributeValue { M = item }))!, setElements: false)!.ToJsonString();

        static JsonNode? Sorted(JsonNode? node, bool setElements) => node switch
        {
            JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value, p.Key is "SS" or "NS" or "BS")))),
            JsonArray a when setElements => new JsonArray(a.Select(e => e!.GetValue<string>()).Order(StringComparer.Ordinal).Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            JsonArray a => new JsonArray(a.Select(e => Sorted(e, false)).ToArray()),
            _ => node?.DeepClone(),
        };
    }

    /// <summary>Passes requests on to the real network and keeps what was sent.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public List<SentRequest> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var body = await request.Content!.ReadAsByteArrayAsync(ct);
            string Header(string name) => Assert.Single(request.Headers.GetValues(name));
            Requests.Add(new SentRequest(
                request.Method.Method, request.RequestUri!, request.Content.Headers.ContentType!.ToString(), Header("X-Amz-Target"),
                Header("X-Amz-Date"), Header("X-Amz-Security-Token"), Header("Authorization"), body));
            Assert.Equal(request.RequestUri!.Authority, request.Headers.Host);
            return await base.SendAsync(request, ct);
        }
    }

    private sealed record SentRequest(
        string Method, Uri Url, string ContentType, string Target, string AmzDate, string SecurityToken, string Authorization, byte[] Body);
}

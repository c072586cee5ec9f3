using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// A DynamoDB Streams client over the service's JSON 1.0 protocol, signed with SigV4 (service <c>dynamodb</c>).
/// It exists because the SDK's Streams client (package AWSSDK.DynamoDBStreams) is not available here. It does not
/// retry: a <see cref="DynamoStreamsException"/> says whether a retry can help; transport failures surface as
/// <see cref="HttpRequestException"/> and timeouts as <see cref="TaskCanceledException"/>. Thread-safe.
/// </summary>
public sealed class DynamoStreamsClient : IDisposable
{
    private const string TargetPrefix = "DynamoDBStreams_20120810.";
    private const string SigningService = "dynamodb";
    private const string JsonContentType = "application/x-amz-json-1.0";

    /// <summary>One connection pool for every client that brings no HTTP client of its own.</summary>
    private static readonly SocketsHttpHandler SharedHandler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };

    private readonly DynamoEndpoint _endpoint;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client for an endpoint.</summary>
    /// <param name="endpoint">Where the stream is, and the credentials to sign with.</param>
    /// <param name="http">The HTTP client to send with (not disposed by this client); null for one over a connection
    /// pool shared by all clients, with a 30-second timeout.</param>
    public DynamoStreamsClient(DynamoEndpoint endpoint, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(SharedHandler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Describes a stream with all of its shards (following <c>LastEvaluatedShardId</c> page by page).</summary>
    /// <param name="streamArn">The stream's ARN (a table's <c>LatestStreamArn</c>).</param>
    /// <param name="ct">Cancels the request.</param>
    public async Task<StreamDescription> DescribeStreamAsync(string streamArn, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamArn);
        const string op = "DescribeStream";
        var shards = new List<StreamShard>();
        string? startShardId = null;
        while (true)
        {
            using var response = await SendAsync(op, w =>
            {
                w.WriteString("StreamArn", streamArn);
                if (startShardId is not null)
                {
                    w.WriteString("ExclusiveStartShardId", startShardId);
                }
            }, ct);
            var d = Required(op, response.RootElement, "StreamDescription");
            if (d.TryGetProperty("Shards", out var page))
            {
                foreach (var s in page.EnumerateArray())
                {
                    var range = Required(op, s, "SequenceNumberRange");
                    shards.Add(new StreamShard(
                        RequiredString(op, s, "ShardId"),
                        OptionalString(s, "ParentShardId"),
                        RequiredString(op, range, "StartingSequenceNumber"),
                        OptionalString(range, "EndingSequenceNumber")));
                }
            }
            startShardId = OptionalString(d, "LastEvaluatedShardId");
            if (startShardId is null)
            {
                return new StreamDescription(
                    RequiredString(op, d, "StreamArn"),
                    RequiredString(op, d, "StreamStatus"),
                    OptionalString(d, "StreamViewType"),
                    RequiredString(op, d, "TableName"),
                    shards);
            }
        }
    }

    /// <summary>Gets an iterator into a shard; it expires after 15 minutes unless used.</summary>
    /// <param name="streamArn">The stream's ARN.</param>
    /// <param name="shardId">The shard's id.</param>
    /// <param name="type">Where the iterator starts.</param>
    /// <param name="sequenceNumber">The sequence number for <see cref="ShardIteratorType.AtSequenceNumber"/> and
    /// <see cref="ShardIteratorType.AfterSequenceNumber"/>; must be null for the other types.</param>
    /// <param name="ct">Cancels the request.</param>
    public async Task<string> GetShardIteratorAsync(
        string streamArn, string shardId, ShardIteratorType type, string? sequenceNumber, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamArn);
        ArgumentException.ThrowIfNullOrEmpty(shardId);
        var (wireType, needsSequence) = type switch
        {
            ShardIteratorType.TrimHorizon => ("TRIM_HORIZON", false),
            ShardIteratorType.Latest => ("LATEST", false),
            ShardIteratorType.AtSequenceNumber => ("AT_SEQUENCE_NUMBER", true),
            ShardIteratorType.AfterSequenceNumber => ("AFTER_SEQUENCE_NUMBER", true),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown shard iterator type"),
        };
        if (needsSequence != sequenceNumber is not null)
        {
            throw new ArgumentException(
                needsSequence ? $"{type} needs a sequence number" : $"{type} takes no sequence number", nameof(sequenceNumber));
        }
        const string op = "GetShardIterator";
        using var response = await SendAsync(op, w =>
        {
            w.WriteString("StreamArn", streamArn);
            w.WriteString("ShardId", shardId);
            w.WriteString("ShardIteratorType", wireType);
            if (sequenceNumber is not null)
            {
                w.WriteString("SequenceNumber", sequenceNumber);
            }
        }, ct);
        return RequiredString(op, response.RootElement, "ShardIterator");
    }

    /// <summary>Reads the next page of records of a shard.</summary>
    /// <param name="shardIterator">An iterator from <see cref="GetShardIteratorAsync"/> or the previous page.</param>
    /// <param name="limit">Most records to return: 1 to 1,000.</param>
    /// <param name="ct">Cancels the request.</param>
    public async Task<RecordsPage> GetRecordsAsync(string shardIterator, int limit, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(shardIterator);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        const string op = "GetRecords";
        using var response = await SendAsync(op, w =>
        {
            w.WriteString("ShardIterator", shardIterator);
            w.WriteNumber("Limit", limit);
        }, ct);
        var root = response.RootElement;
        var records = new List<StreamRecord>();
        if (root.TryGetProperty("Records", out var list))
        {
            foreach (var r in list.EnumerateArray())
            {
                var d = Required(op, r, "dynamodb");
                records.Add(new StreamRecord(
                    RequiredString(op, r, "eventName"),
                    RequiredString(op, d, "SequenceNumber"),
                    FromEpochSeconds(Required(op, d, "ApproximateCreationDateTime").GetDecimal()),
                    DynamoJson.ReadItem(Required(op, d, "Keys")),
                    d.TryGetProperty("NewImage", out var newImage) ? DynamoJson.ReadItem(newImage) : null,
                    d.TryGetProperty("OldImage", out var oldImage) ? DynamoJson.ReadItem(oldImage) : null,
                    d.TryGetProperty("SizeBytes", out var size) ? size.GetInt64() : 0));
            }
        }
        return new RecordsPage(records, OptionalString(root, "NextShardIterator"));
    }

    /// <summary>Disposes the HTTP client if this client created it (the shared connection pool stays).</summary>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Epoch seconds (possibly fractional) as a time, to the millisecond.</summary>
    internal static DateTimeOffset FromEpochSeconds(decimal seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)decimal.Round(seconds * 1000m, MidpointRounding.AwayFromZero));

    /// <summary>Posts one signed request; returns the parsed success response or throws the mapped error.</summary>
    private async Task<JsonDocument> SendAsync(string operation, Action<Utf8JsonWriter> writeMembers, CancellationToken ct)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            writeMembers(w);
            w.WriteEndObject();
        }

        var url = _endpoint.StreamsUrl;
        var target = TargetPrefix + operation;
        var credentials = await _endpoint.Credentials.GetCredentialsAsync().ConfigureAwait(false);
        var signature = SigV4.Sign(
            "POST",
            url,
            [new("Content-Type", JsonContentType), new("X-Amz-Target", target)],
            body.WrittenSpan,
            credentials,
            _endpoint.Region,
            SigningService,
            DateTimeOffset.UtcNow);

        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ReadOnlyMemoryContent(body.WrittenMemory);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(JsonContentType);
        request.Headers.Host = url.Authority;
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", signature.AmzDate);
        if (signature.SecurityToken is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", signature.SecurityToken);
        }
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Error(operation, response, bytes);
        }
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"DynamoDB Streams {operation} returned HTTP {(int)response.StatusCode} with a body that is not JSON", e);
        }
    }

    /// <summary>
    /// The exception for an error response: the code is the part of <c>__type</c> after <c>#</c> (or the
    /// <c>x-amzn-ErrorType</c> header before any <c>:</c>), the message is <c>message</c> or <c>Message</c>.
    /// </summary>
    private static DynamoStreamsException Error(string operation, HttpResponseMessage response, byte[] body)
    {
        string? code = null;
        var message = "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = OptionalString(doc.RootElement, "__type");
                message = OptionalString(doc.RootElement, "message") ?? OptionalString(doc.RootElement, "Message") ?? "";
            }
        }
        catch (JsonException)
        {
            message = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500)).Trim();
        }
        if (code is null && response.Headers.TryGetValues("x-amzn-ErrorType", out var types))
        {
            code = types.First().Split(':')[0];
        }
        code = code?[(code.LastIndexOf('#') + 1)..];
        if (string.IsNullOrEmpty(code))
        {
            code = response.StatusCode.ToString();
        }
        return new DynamoStreamsException(operation, code, message, response.StatusCode);
    }

    private static JsonElement Required(string operation, JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw new InvalidDataException($"DynamoDB Streams {operation} response lacks '{name}'");

    private static string RequiredString(string operation, JsonElement e, string name) =>
        Required(operation, e, name).GetString()!;

    private static string? OptionalString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

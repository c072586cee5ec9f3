using System.Net;
using Amazon.DynamoDBv2.Model;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>Where a DynamoDB stream is read, and as whom.</summary>
/// <param name="ServiceUrl">Endpoint of a non-AWS service such as DynamoDB Local (which serves tables and streams on
/// the same URL); null for AWS.</param>
/// <param name="Region">Signing region, e.g. <c>eu-central-1</c>; also picks the AWS Streams endpoint.</param>
/// <param name="Credentials">Credentials, resolved before each request (so refreshing credentials keep working).</param>
public sealed record DynamoEndpoint(Uri? ServiceUrl, string Region, Amazon.Runtime.AWSCredentials Credentials)
{
    /// <summary>
    /// The URL requests are posted to: <see cref="ServiceUrl"/> when set, otherwise
    /// <c>https://streams.dynamodb.{Region}.amazonaws.com/</c> (<c>.amazonaws.com.cn</c> for the <c>cn-</c> regions).
    /// </summary>
    public Uri StreamsUrl => ServiceUrl ?? new Uri(
        $"https://streams.dynamodb.{Region}.amazonaws.com{(Region.StartsWith("cn-", StringComparison.Ordinal) ? ".cn" : "")}/");
}

/// <summary>Where a shard iterator starts.</summary>
public enum ShardIteratorType
{
    /// <summary>At the oldest record still in the shard (<c>TRIM_HORIZON</c>).</summary>
    TrimHorizon,

    /// <summary>After the newest record, so only records written from now on are read (<c>LATEST</c>).</summary>
    Latest,

    /// <summary>At the record with the given sequence number (<c>AT_SEQUENCE_NUMBER</c>).</summary>
    AtSequenceNumber,

    /// <summary>Right after the record with the given sequence number (<c>AFTER_SEQUENCE_NUMBER</c>).</summary>
    AfterSequenceNumber,
}

/// <summary>A stream and all of its shards.</summary>
/// <param name="StreamArn">The stream's ARN.</param>
/// <param name="StreamStatus"><c>ENABLING</c>, <c>ENABLED</c>, <c>DISABLING</c> or <c>DISABLED</c>.</param>
/// <param name="StreamViewType"><c>KEYS_ONLY</c>, <c>NEW_IMAGE</c>, <c>OLD_IMAGE</c> or <c>NEW_AND_OLD_IMAGES</c>.</param>
/// <param name="TableName">The table the stream belongs to.</param>
/// <param name="Shards">Every shard, in the order the service listed them.</param>
public sealed record StreamDescription(
    string StreamArn, string StreamStatus, string? StreamViewType, string TableName, IReadOnlyList<StreamShard> Shards);

/// <summary>One shard of a stream.</summary>
/// <param name="ShardId">The shard's id.</param>
/// <param name="ParentShardId">The shard it split from, whose records come first; null for none.</param>
/// <param name="StartingSequenceNumber">Sequence number of the shard's first record.</param>
/// <param name="EndingSequenceNumber">Sequence number of its last record once the shard is closed; null while it is open.</param>
public sealed record StreamShard(string ShardId, string? ParentShardId, string StartingSequenceNumber, string? EndingSequenceNumber)
{
    /// <summary>True when the shard takes no more records (it has an ending sequence number).</summary>
    public bool IsClosed => EndingSequenceNumber is not null;
}

/// <summary>One page of records from a shard.</summary>
/// <param name="Records">The records, in sequence order (possibly none, even while more records follow).</param>
/// <param name="NextShardIterator">Iterator for the next page; null once a closed shard has been read to its end.
/// An open shard always has one.</param>
public sealed record RecordsPage(IReadOnlyList<StreamRecord> Records, string? NextShardIterator);

/// <summary>One change of one item.</summary>
/// <param name="EventName"><c>INSERT</c>, <c>MODIFY</c> or <c>REMOVE</c>.</param>
/// <param name="SequenceNumber">The record's sequence number: unique within the shard and increasing in it
/// (compare as numbers, not as strings of different lengths).</param>
/// <param name="ApproximateCreationDateTime">When the change was made, to about a second (or millisecond).</param>
/// <param name="Keys">The item's key attributes.</param>
/// <param name="NewImage">The item after the change; null for <c>REMOVE</c> or when the stream does not carry it.</param>
/// <param name="OldImage">The item before the change; null for <c>INSERT</c> or when the stream does not carry it.</param>
/// <param name="SizeBytes">Size of the record as the service counts it.</param>
public sealed record StreamRecord(
    string EventName,
    string SequenceNumber,
    DateTimeOffset ApproximateCreationDateTime,
    Dictionary<string, AttributeValue> Keys,
    Dictionary<string, AttributeValue>? NewImage,
    Dictionary<string, AttributeValue>? OldImage,
    long SizeBytes);

/// <summary>What kind of failure a <see cref="DynamoStreamsException"/> is.</summary>
public enum DynamoStreamsError
{
    /// <summary>The shard iterator is older than 15 minutes: get a new one (<c>ExpiredIteratorException</c>).</summary>
    ExpiredIterator,

    /// <summary>The records asked for are past the 24-hour retention and gone (<c>TrimmedDataAccessException</c>).</summary>
    TrimmedDataAccess,

    /// <summary>The stream or shard does not exist (<c>ResourceNotFoundException</c>).</summary>
    ResourceNotFound,

    /// <summary>Throttled, or a server error (HTTP 5xx): retry later with back-off.</summary>
    Throttled,

    /// <summary>Anything else, e.g. <c>ValidationException</c> or <c>AccessDeniedException</c>: not retryable as is.</summary>
    Other,
}

/// <summary>An error response of the DynamoDB Streams service.</summary>
public sealed class DynamoStreamsException : Exception
{
    /// <summary>Creates the exception for an error response.</summary>
    /// <param name="operation">The operation that failed, e.g. <c>GetRecords</c>.</param>
    /// <param name="errorCode">The AWS error code without its namespace, e.g. <c>ExpiredIteratorException</c>.</param>
    /// <param name="awsMessage">The message the service sent (may be empty).</param>
    /// <param name="status">The HTTP status of the response.</param>
    public DynamoStreamsException(string operation, string errorCode, string awsMessage, HttpStatusCode status)
        : base($"DynamoDB Streams {operation} failed: {errorCode} (HTTP {(int)status}){(awsMessage.Length > 0 ? ": " + awsMessage : "")}")
    {
        Operation = operation;
        ErrorCode = errorCode;
        Status = status;
        Error = Classify(errorCode, status);
    }

    /// <summary>What kind of failure this is.</summary>
    public DynamoStreamsError Error { get; }

    /// <summary>The AWS error code without its namespace, e.g. <c>ExpiredIteratorException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status of the error response.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The operation that failed, e.g. <c>GetRecords</c>.</summary>
    public string Operation { get; }

    /// <summary>True when the same request may succeed later (<see cref="DynamoStreamsError.Throttled"/>).</summary>
    public bool IsRetryable => Error == DynamoStreamsError.Throttled;

    /// <summary>The kind of failure of an AWS error code and HTTP status.</summary>
    public static DynamoStreamsError Classify(string errorCode, HttpStatusCode status) => errorCode switch
    {
        "ExpiredIteratorException" => DynamoStreamsError.ExpiredIterator,
        "TrimmedDataAccessException" => DynamoStreamsError.TrimmedDataAccess,
        "ResourceNotFoundException" => DynamoStreamsError.ResourceNotFound,
        "LimitExceededException" or "ThrottlingException" or "ProvisionedThroughputExceededException" or "RequestLimitExceeded"
            => DynamoStreamsError.Throttled,
        _ when (int)status >= 500 => DynamoStreamsError.Throttled,
        _ => DynamoStreamsError.Other,
    };
}

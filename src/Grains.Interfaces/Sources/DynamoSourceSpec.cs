using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>A service team's request to capture one DynamoDB table through its stream.</summary>
/// <param name="Id">Source id: lower-case letters, digits and underscores, 1 to 40 characters, starting with a letter.
/// It names the lake folders.</param>
/// <param name="Table">DynamoDB table name. Its stream must be enabled with view type <c>NEW_AND_OLD_IMAGES</c> or
/// <c>NEW_IMAGE</c>.</param>
/// <param name="Region">AWS region, e.g. <c>eu-central-1</c>.</param>
/// <param name="Endpoint">Endpoint URL for a non-AWS endpoint (DynamoDB Local); null for AWS. The Streams endpoint is
/// the same URL for a custom endpoint, <c>streams.dynamodb.{region}.amazonaws.com</c> otherwise.</param>
/// <param name="Partitions">Stream partitions (hash of the table's key); 1 to 256.</param>
/// <param name="Snapshot">Whether the items already in the table are read first (a parallel Scan).</param>
/// <param name="AccessKeyId">Access key; null to use the silo's AWS credentials (environment, profile, IRSA).</param>
/// <param name="SecretAccessKey">Secret key belonging to <paramref name="AccessKeyId"/>. Never logged or shown.</param>
/// <param name="ScanSegments">Segments of the snapshot's parallel Scan, each read by its own grain; 1 to 1,000.</param>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-source-spec")]
public sealed record DynamoSourceSpec(
    [property: Id(0)] string Id,
    [property: Id(1)] string Table,
    [property: Id(2)] string Region = "us-east-1",
    [property: Id(3)] string? Endpoint = null,
    [property: Id(4)] int Partitions = 4,
    [property: Id(5)] SnapshotMode Snapshot = SnapshotMode.Initial,
    [property: Id(6)] string? AccessKeyId = null,
    [property: Id(7)] string? SecretAccessKey = null,
    [property: Id(8)] int ScanSegments = 4)
{
    /// <inheritdoc />
    public override string ToString() => $"DynamoSourceSpec {{ Id = {Id}, Table = {Table}, Region = {Region}, Endpoint = {Endpoint}, Partitions = {Partitions} }}";
}

/// <summary>A DynamoDB table captured through DynamoDB Streams (key: source id).</summary>
[Alias("saiki.dynamo-source")]
public interface IDynamoSourceGrain : IChangeSourceGrain
{
    /// <summary>Validates the table and its stream, then starts the snapshot (if asked) and the stream.</summary>
    [Alias("register")]
    Task<SourceInfo> RegisterAsync(DynamoSourceSpec spec);

    /// <summary>
    /// After the stream trimmed records the source had not read (it stayed failed), starts over: every lake
    /// partition gets a truncate, a new Scan snapshot is written after it, and the stream is read from then on.
    /// </summary>
    [Alias("resnapshot")]
    Task<SourceInfo> ResnapshotAsync();
}

/// <summary>
/// Reads one shard of a DynamoDB stream for its source (key: <c>source|shardId</c>). Holds no durable state: the
/// source says where to read from, so the grain can be lost with its silo and recreated anywhere.
/// </summary>
[Alias("saiki.dynamo-shard")]
public interface IDynamoShardGrain : IGrainWithStringKey
{
    /// <summary>Records of the shard after a sequence number (from the shard's start when null), in order.</summary>
    [Alias("read")]
    Task<ShardPage> ReadAsync(ShardRead request);
}

/// <summary>Where a shard reader reads.</summary>
/// <param name="Connection">The source's endpoint and credentials.</param>
/// <param name="StreamArn">Stream ARN.</param>
/// <param name="ShardId">Shard id.</param>
/// <param name="After">Sequence number of the last record already taken; null for the shard's first record.</param>
/// <param name="Limit">Most records to return.</param>
/// <param name="Through">When set, read exactly up to and including this sequence number (a replay of a logged read).</param>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-shard-read")]
public sealed record ShardRead(
    [property: Id(0)] DynamoConnection Connection,
    [property: Id(1)] string StreamArn,
    [property: Id(2)] string ShardId,
    [property: Id(3)] string? After,
    [property: Id(4)] int Limit,
    [property: Id(5)] string? Through = null);

/// <summary>The endpoint and credentials of a DynamoDB source, as a reader needs them.</summary>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-connection")]
public sealed record DynamoConnection(
    [property: Id(0)] string Region,
    [property: Id(1)] string? Endpoint,
    [property: Id(2)] string? AccessKeyId,
    [property: Id(3)] string? SecretAccessKey)
{
    /// <summary>The connection of a spec.</summary>
    public static DynamoConnection Of(DynamoSourceSpec spec) => new(spec.Region, spec.Endpoint, spec.AccessKeyId, spec.SecretAccessKey);

    /// <inheritdoc />
    public override string ToString() => $"DynamoConnection {{ Region = {Region}, Endpoint = {Endpoint} }}";
}

/// <summary>Records read from a shard.</summary>
/// <param name="Records">Records in sequence order.</param>
/// <param name="Ended">True when the shard is closed and every record of it has been returned.</param>
/// <param name="Lost">Set when the records asked for no longer exist (trimmed after the stream's 24 h retention, or
/// the stream or shard is gone): why, for the source's failed state.</param>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-shard-page")]
public sealed record ShardPage(
    [property: Id(0)] IReadOnlyList<DynamoRecord> Records,
    [property: Id(1)] bool Ended,
    [property: Id(2)] string? Lost = null);

/// <summary>One stream record with its item images as typed attributes.</summary>
/// <param name="Sequence">Sequence number in its shard.</param>
/// <param name="EventName"><c>INSERT</c>, <c>MODIFY</c> or <c>REMOVE</c>.</param>
/// <param name="Created">The record's approximate creation time.</param>
/// <param name="Keys">The item's key attributes.</param>
/// <param name="NewImage">The item after the change (null for REMOVE).</param>
/// <param name="OldImage">The item before the change (null for INSERT, or with a NEW_IMAGE stream).</param>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-record")]
public sealed record DynamoRecord(
    [property: Id(0)] string Sequence,
    [property: Id(1)] string EventName,
    [property: Id(2)] DateTimeOffset Created,
    [property: Id(3)] IReadOnlyList<DynamoAttribute> Keys,
    [property: Id(4)] IReadOnlyList<DynamoAttribute>? NewImage,
    [property: Id(5)] IReadOnlyList<DynamoAttribute>? OldImage);

/// <summary>One attribute of an item: its name, its DynamoDB type (<c>S N B BOOL NULL M L SS NS BS</c>) and its value as text
/// (the README's "DynamoDB sources" lists the text of each type).</summary>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-attribute")]
public sealed record DynamoAttribute(
    [property: Id(0)] string Name,
    [property: Id(1)] string Type,
    [property: Id(2)] string Value);

/// <summary>Reads one segment of a DynamoDB table's snapshot Scan (key: <c>source|table|segment</c>).</summary>
[Alias("saiki.dynamo-scan-segment")]
public interface IDynamoScanSegmentGrain : IGrainWithStringKey
{
    /// <summary>Scans the segment (strongly consistent reads) and writes it as one lake file with its manifest entry; returns the item count. Idempotent.</summary>
    [Alias("read")]
    Task<long> ReadAsync(DynamoScanWork work);
}

/// <summary>What a scan segment reader needs.</summary>
/// <param name="SourceId">Source id.</param>
/// <param name="Connection">Endpoint and credentials.</param>
/// <param name="Table">Table name.</param>
/// <param name="Segment">Segment number.</param>
/// <param name="TotalSegments">Segments of the whole Scan.</param>
/// <param name="Chunk">Number of the lake file (unique per source and table, across re-snapshots).</param>
/// <param name="Position">Position of the snapshot rows: before every stream change they precede.</param>
/// <param name="SnapshotTime">Time recorded as the rows' commit time.</param>
[GenerateSerializer, Immutable, Alias("saiki.dynamo-scan-work")]
public sealed record DynamoScanWork(
    [property: Id(0)] string SourceId,
    [property: Id(1)] DynamoConnection Connection,
    [property: Id(2)] string Table,
    [property: Id(3)] int Segment,
    [property: Id(4)] int TotalSegments,
    [property: Id(5)] int Chunk,
    [property: Id(6)] Changes.Position Position,
    [property: Id(7)] DateTimeOffset SnapshotTime);

using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>What a DynamoDB source is captured from: the table's key columns and its stream.</summary>
/// <param name="StreamArn">The table's current stream.</param>
/// <param name="KeyColumns">Hash key, then range key when the table has one, typed S, N or B.</param>
public sealed record DynamoTableInfo(string StreamArn, IReadOnlyList<ColumnSchema> KeyColumns);

/// <summary>Checks DynamoDB source registrations and opens clients for a source's endpoint.</summary>
public static class DynamoSourceAdmin
{
    private static readonly string[] UsableViewTypes = ["NEW_AND_OLD_IMAGES", "NEW_IMAGE"];

    /// <summary>Checks the spec itself, before calling DynamoDB.</summary>
    public static DynamoSourceSpec ValidateShape(DynamoSourceSpec spec)
    {
        var problems = new List<string>();
        if (SaikiIds.Problem(IdKind.CaptureSource, spec.Id) is { } idProblem)
        {
            problems.Add(idProblem);
        }
        if (string.IsNullOrWhiteSpace(spec.Table) || spec.Table.Length > 255 || !spec.Table.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            problems.Add($"table name '{spec.Table}' is invalid: DynamoDB table names are 3 to 255 characters of letters, digits, '_', '-' and '.'");
        }
        if (!Enum.IsDefined(spec.Snapshot))
        {
            problems.Add($"snapshot mode {(int)spec.Snapshot} is unknown: use {string.Join(" or ", Enum.GetNames<SnapshotMode>())}");
        }
        if (string.IsNullOrWhiteSpace(spec.Region))
        {
            problems.Add("region is missing (e.g. eu-central-1)");
        }
        if (spec.Endpoint is { } endpoint && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            problems.Add($"endpoint '{endpoint}' is not an http(s) URL");
        }
        if (spec.Partitions is < 1 or > 256)
        {
            problems.Add($"partitions must be between 1 and 256, not {spec.Partitions}");
        }
        if (spec.ScanSegments is < 1 or > 1000)
        {
            problems.Add($"scanSegments must be between 1 and 1000, not {spec.ScanSegments}");
        }
        if ((spec.AccessKeyId is null) != (spec.SecretAccessKey is null))
        {
            problems.Add("accessKeyId and secretAccessKey go together: give both, or neither to use the silo's AWS credentials");
        }
        if (problems.Count > 0)
        {
            throw new SourceValidationException(problems);
        }
        return spec with { Table = spec.Table.Trim(), Region = spec.Region.Trim() };
    }

    /// <summary>
    /// Checks that the table exists and has a stream whose records carry the new item image; returns the stream
    /// and the key columns. Nothing is created or changed in DynamoDB.
    /// </summary>
    public static async Task<DynamoTableInfo> ValidateAsync(DynamoSourceSpec spec, CancellationToken ct)
    {
        TableDescription table;
        try
        {
            using var client = OpenClient(DynamoConnection.Of(spec));
            table = (await client.DescribeTableAsync(spec.Table, ct)).Table;
        }
        catch (ResourceNotFoundException)
        {
            throw new SourceValidationException($"table '{spec.Table}' does not exist in region {spec.Region}{(spec.Endpoint is null ? "" : $" at {spec.Endpoint}")}");
        }
        catch (AmazonServiceException e)
        {
            throw new SourceValidationException($"table '{spec.Table}' could not be described: {e.ErrorCode}: {e.Message}");
        }
        catch (AmazonClientException e) when (spec.AccessKeyId is null)
        {
            throw new SourceValidationException($"the silo has no AWS credentials to read table '{spec.Table}' with ({e.Message.Split('.')[0]}); give accessKeyId and secretAccessKey in the registration, or configure the silo's credentials (environment, profile, IRSA)");
        }
        catch (HttpRequestException e)
        {
            throw new SourceValidationException($"DynamoDB endpoint {spec.Endpoint ?? spec.Region} is unreachable: {e.Message}");
        }
        var stream = table.StreamSpecification;
        if (stream is not { StreamEnabled: true } || table.LatestStreamArn is null)
        {
            throw new SourceValidationException($"table '{spec.Table}' has no stream enabled; enable DynamoDB Streams on it with view type NEW_AND_OLD_IMAGES (or NEW_IMAGE)");
        }
        var viewType = stream.StreamViewType?.Value;
        if (!UsableViewTypes.Contains(viewType))
        {
            throw new SourceValidationException($"the stream of table '{spec.Table}' has view type {viewType}, which does not carry the new item image; change it to NEW_AND_OLD_IMAGES (or NEW_IMAGE)");
        }
        return new DynamoTableInfo(table.LatestStreamArn, KeyColumns(table));
    }

    /// <summary>The table's key columns: hash key, then range key, typed by the attribute definitions (S, N or B).</summary>
    public static IReadOnlyList<ColumnSchema> KeyColumns(TableDescription table)
    {
        var types = table.AttributeDefinitions.ToDictionary(a => a.AttributeName, a => a.AttributeType.Value, StringComparer.Ordinal);
        return table.KeySchema.OrderBy(k => k.KeyType == KeyType.HASH ? 0 : 1)
            .Select(k => new ColumnSchema(k.AttributeName, types[k.AttributeName])).ToArray();
    }

    /// <summary>A DynamoDB client for a source's endpoint and credentials.</summary>
    public static AmazonDynamoDBClient OpenClient(DynamoConnection connection)
    {
        var config = new AmazonDynamoDBConfig { AuthenticationRegion = connection.Region, MaxErrorRetry = 5 };
        if (connection.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(connection.Region);
        }
        return new AmazonDynamoDBClient(CredentialsOf(connection), config);
    }

    /// <summary>The Streams endpoint of a source.</summary>
    public static DynamoEndpoint StreamsEndpoint(DynamoConnection connection) =>
        new(connection.Endpoint is { } e ? new Uri(e) : null, connection.Region, CredentialsOf(connection));

    private static AWSCredentials CredentialsOf(DynamoConnection connection) =>
        connection.AccessKeyId is { } key
            ? new BasicAWSCredentials(key, connection.SecretAccessKey)
            : DefaultAWSCredentialsIdentityResolver.GetCredentials();
}

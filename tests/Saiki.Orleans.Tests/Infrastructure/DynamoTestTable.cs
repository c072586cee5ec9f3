using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Saiki.Orleans.Capture.Dynamo;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>A table of its own in the test DynamoDB Local (hash key <c>pk</c> S, range key <c>sk</c> N), deleted at the end.</summary>
public sealed class DynamoTestTable : IAsyncDisposable
{
    public const string Region = "us-east-1";
    public static readonly string[] Key = ["pk", "sk"];

    private DynamoTestTable(string name, AmazonDynamoDBClient client)
    {
        Name = name;
        Client = client;
    }

    public string Name { get; }
    public AmazonDynamoDBClient Client { get; }

    public static AmazonDynamoDBClient OpenClient() =>
        new(new BasicAWSCredentials("test", "test"), new AmazonDynamoDBConfig { ServiceURL = TestEnvironment.DynamoUrl, AuthenticationRegion = Region });

    /// <summary>Creates the table; <paramref name="viewType"/> null creates it without a stream.</summary>
    public static async Task<DynamoTestTable> CreateAsync(string prefix, string? viewType = "NEW_AND_OLD_IMAGES")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 13)];
        var client = OpenClient();
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            KeySchema = [new KeySchemaElement("pk", KeyType.HASH), new KeySchemaElement("sk", KeyType.RANGE)],
            AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S), new AttributeDefinition("sk", ScalarAttributeType.N)],
            StreamSpecification = viewType is null ? null : new StreamSpecification { StreamEnabled = true, StreamViewType = viewType },
        });
        return new DynamoTestTable(name, client);
    }

    /// <summary>A registration of this table as a source.</summary>
    public DynamoSourceSpec Spec(string id, int partitions = 3, SnapshotMode snapshot = SnapshotMode.Never, int segments = 4) =>
        new(id, Name, Region, TestEnvironment.DynamoUrl, partitions, snapshot, "test", "test", segments);

    public static Dictionary<string, AttributeValue> Item(string pk, int sk, params (string Name, AttributeValue Value)[] attributes)
    {
        var item = new Dictionary<string, AttributeValue> { ["pk"] = new() { S = pk }, ["sk"] = new() { N = sk.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        foreach (var (n, v) in attributes)
        {
            item[n] = v;
        }
        return item;
    }

    public Task PutAsync(Dictionary<string, AttributeValue> item) => Client.PutItemAsync(new PutItemRequest { TableName = Name, Item = item });

    public Task DeleteAsync(string pk, int sk) => Client.DeleteItemAsync(new DeleteItemRequest { TableName = Name, Key = Item(pk, sk) });

    /// <summary>Adds 1 to the item's <c>version</c> and sets <c>note</c> (an update that always changes the item).</summary>
    public Task BumpAsync(string pk, int sk, string note) => Client.UpdateItemAsync(new UpdateItemRequest
    {
        TableName = Name, Key = Item(pk, sk),
        UpdateExpression = "SET version = if_not_exists(version, :zero) + :one, note = :note",
        ExpressionAttributeValues = new() { [":zero"] = new() { N = "0" }, [":one"] = new() { N = "1" }, [":note"] = new() { S = note } },
    });

    /// <summary>Every item as the lake writes it: attribute name → text (see <see cref="DynamoItems"/>), keyed by <c>pk|sk</c>.</summary>
    public async Task<Dictionary<string, Dictionary<string, string?>>> ReadTableAsync()
    {
        var rows = new Dictionary<string, Dictionary<string, string?>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await Client.ScanAsync(new ScanRequest { TableName = Name, ConsistentRead = true, ExclusiveStartKey = start });
            foreach (var item in page.Items ?? [])
            {
                rows[$"{item["pk"].S}|{item["sk"].N}"] = item.ToDictionary(kv => kv.Key, kv => (string?)DynamoItems.ToText(kv.Value).Text);
            }
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DeleteTableAsync(Name);
        }
        catch (ResourceNotFoundException)
        {
        }
        Client.Dispose();
    }
}

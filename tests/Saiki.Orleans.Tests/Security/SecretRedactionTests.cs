using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Tests.Security;

/// <summary>Records that carry a connection string print everything but it: a spec in a log line or an exception message must not leak the password.</summary>
public sealed class SecretRedactionTests
{
    private const string Password = "s3cr3t-Pa55w0rd";
    private const string Connection = $"Host=db;Username=saiki;Password={Password};Database=orders";

    [Fact]
    public void PostgresSourceSpec_PrintsWithoutItsConnectionString()
    {
        var text = new PostgresSourceSpec("orders", Connection, ["public.orders"]).ToString();
        Assert.DoesNotContain(Password, text);
        Assert.DoesNotContain("Host=db", text);
        Assert.Contains("Id = orders", text);
        Assert.Contains("public.orders", text);
    }

    [Fact]
    public void SnapshotChunkWork_PrintsWithoutItsConnectionString()
    {
        var text = new SnapshotChunkWork("orders", Connection, "public.orders", 3, 0, 8, "snap", 42, DateTimeOffset.UnixEpoch, 1234, null).ToString();
        Assert.DoesNotContain(Password, text);
        Assert.Contains("Chunk = 3", text);
    }
}

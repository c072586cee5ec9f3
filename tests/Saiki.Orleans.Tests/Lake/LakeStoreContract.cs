using System.Security.Cryptography;
using System.Text;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Lake;

/// <summary>What every lake store must do; bytes are always read back and compared.</summary>
public abstract class LakeStoreContract
{
    protected abstract ILakeStore Store { get; }

    [Fact]
    public async Task LargeObject_IsStoredByteForByte()
    {
        var content = new byte[6 * 1024 * 1024 + 17];
        new Random(3).NextBytes(content);
        await Store.PutAsync("big/object.bin", content);
        var back = await Store.GetAsync("big/object.bin");
        Assert.NotNull(back);
        Assert.Equal(content.Length, back.Length);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(back));
    }

    [Fact]
    public async Task Overwrite_ReplacesTheObject()
    {
        await Store.PutAsync("k/v.json", Encoding.UTF8.GetBytes("{\"hello\":1}"));
        await Store.PutAsync("k/v.json", Encoding.UTF8.GetBytes("{\"hello\":2}"));
        Assert.Equal("{\"hello\":2}", Encoding.UTF8.GetString((await Store.GetAsync("k/v.json"))!));
    }

    [Fact]
    public async Task List_ReturnsKeysUnderThePrefixInOrder_AfterStartAfter()
    {
        foreach (var k in new[] { "l/p-3", "l/p-1", "l/p-2", "l/q-1", "l/sub/p-9" })
        {
            await Store.PutAsync(k, new byte[] { 1 });
        }
        Assert.Equal(["l/p-1", "l/p-2", "l/p-3"], await ToListAsync(Store.ListAsync("l/p-")));
        Assert.Equal(["l/p-2", "l/p-3"], await ToListAsync(Store.ListAsync("l/p-", "l/p-1")));
        Assert.Equal(["l/sub/p-9"], await ToListAsync(Store.ListAsync("l/sub/")));
        Assert.Empty(await ToListAsync(Store.ListAsync("nothing/here/")));
    }

    [Fact]
    public async Task MissingObject_ReadsAsNull_AndDeleteIsIdempotent()
    {
        Assert.Null(await Store.GetAsync("no/such/key"));
        await Store.PutAsync("d/x", new byte[] { 1 });
        await Store.DeleteAsync("d/x");
        await Store.DeleteAsync("d/x");
        Assert.Null(await Store.GetAsync("d/x"));
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<string> keys)
    {
        var list = new List<string>();
        await foreach (var k in keys)
        {
            list.Add(k);
        }
        return list;
    }
}

public sealed class LocalLakeStoreTests : LakeStoreContract, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "saiki-lake-" + Guid.NewGuid().ToString("N"));
    private readonly LocalLakeStore _store;

    public LocalLakeStoreTests() => _store = new LocalLakeStore(_root);

    protected override ILakeStore Store => _store;

    [Fact]
    public async Task KeysThatEscapeTheRoot_AreRejected() =>
        await Assert.ThrowsAsync<ArgumentException>(() => _store.PutAsync("../outside", new byte[] { 1 }));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

public sealed class S3LakeStoreTests : LakeStoreContract, IAsyncLifetime, IDisposable
{
    private readonly S3LakeStore _store = new(new S3LakeOptions
    {
        Bucket = "contract-" + Guid.NewGuid().ToString("N")[..12],
        ServiceUrl = TestEnvironment.S3Url,
        AccessKey = TestEnvironment.S3AccessKey,
        SecretKey = TestEnvironment.S3SecretKey,
        CreateBucket = true,
    });

    protected override ILakeStore Store => _store;

    public Task InitializeAsync() => _store.EnsureBucketAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _store.Dispose();
}

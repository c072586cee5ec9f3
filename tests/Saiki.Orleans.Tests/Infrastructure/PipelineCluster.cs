using Microsoft.Extensions.Configuration;
using Orleans;
using Orleans.Runtime;
using Orleans.TestingHost;
using Saiki.Orleans.Client;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// An in-process cluster of silos running the real pipeline against the test PostgreSQL and an S3 bucket of its
/// own on s3rver, with grain state and reminders in a PostgreSQL database of its own (as in production; membership
/// is the test host's). Timings are shortened so recovery paths run within seconds.
/// </summary>
public class PipelineCluster : IAsyncLifetime
{

    public InProcessTestCluster Cluster { get; private set; } = null!;
    public SaikiClient Client { get; private set; } = null!;
    public S3LakeStore Lake { get; private set; } = null!;
    public LakeLayout Layout { get; } = new("");
    public string Bucket { get; } = "test-" + Guid.NewGuid().ToString("N")[..12];
    /// <summary>The cluster's own state database.</summary>
    public ClusterDatabase State { get; private set; } = null!;

    public const string HashKey = "test-hash-key-0123456789";

    protected virtual short Silos => 2;

    /// <summary>True for a cluster whose silos reach s3rver through <see cref="Proxy"/>, which its tests slow down and cut.</summary>
    protected virtual bool LakeBehindProxy => false;

    private TcpOutageProxy? _proxy;

    /// <summary>The proxy between the silos and s3rver (a cluster with <see cref="LakeBehindProxy"/> only).</summary>
    public TcpOutageProxy Proxy => _proxy ??= LakeBehindProxy
        ? new TcpOutageProxy(new Uri(TestEnvironment.S3Url))
        : throw new InvalidOperationException("this cluster's silos reach s3rver directly");

    /// <summary>The S3 endpoint the silos use (tests read the lake directly from s3rver).</summary>
    private string SiloS3Url => LakeBehindProxy ? $"https://127.0.0.1:{Proxy.Port}" : TestEnvironment.S3Url;

    /// <summary>
    /// An Iceberg lake committing every 300 ms whose manifests merge every few commits, partitions compact every two
    /// files, delete files are rewritten often and snapshots expire after five, so the faults a test injects also
    /// land on merges, compactions, purges and delete-file rewrites.
    /// </summary>
    protected static IEnumerable<KeyValuePair<string, string?>> BusyIcebergLake =>
    [
        new("Saiki:Lake:Format", "Iceberg"),
        new("Saiki:Lake:Iceberg:CommitInterval", "00:00:00.300"),
        new("Saiki:Lake:Iceberg:MaxManifests", "4"),
        new("Saiki:Lake:Iceberg:CompactFiles", "2"),
        new("Saiki:Lake:Iceberg:MaxDeleteFiles", "3"),
        new("Saiki:Lake:Iceberg:SnapshotsKept", "5"),
    ];

    /// <summary>Settings a derived cluster adds (or overrides).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    public virtual async Task InitializeAsync()
    {
        State = await ClusterDatabase.CreateAsync();
        var s3 = new S3LakeOptions
        {
            Bucket = Bucket, ServiceUrl = TestEnvironment.S3Url, AccessKey = TestEnvironment.S3AccessKey,
            SecretKey = TestEnvironment.S3SecretKey, CreateBucket = true,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Saiki:Lake:Kind"] = "S3",
            // These tests check the pipeline's semantics against the lake's text form (LakeReplay); the Iceberg
            // format, the default, has its own clusters whose lake icebird reads.
            ["Saiki:Lake:Format"] = "JsonLines",
            ["Saiki:Lake:S3:Bucket"] = s3.Bucket,
            ["Saiki:Lake:S3:ServiceUrl"] = SiloS3Url,
            ["Saiki:Lake:S3:AccessKey"] = s3.AccessKey,
            ["Saiki:Lake:S3:SecretKey"] = s3.SecretKey,
            ["Saiki:Lake:S3:CreateBucket"] = "true",
            ["Saiki:Cluster:Kind"] = "AdoNet",
            ["Saiki:Cluster:ConnectionString"] = State.ConnectionString,
            ["Saiki:Pipeline:FlushInterval"] = "00:00:00.300",
            ["Saiki:Pipeline:ResyncAfter"] = "00:00:06",
            ["Saiki:Pipeline:SupervisionInterval"] = "00:00:01",
            ["Saiki:Pipeline:HeartbeatInterval"] = "00:00:01",
            ["Saiki:Privacy:HashKey"] = HashKey,
            // Small chunks, so modest test tables still split into many.
            ["Saiki:Pipeline:SnapshotChunkPages"] = "8",
            ["Saiki:Pipeline:SnapshotParallelism"] = "3",
            // Far below the large-transaction test's size: capture must stream it through, not hold it.
            ["Saiki:Pipeline:MaxPendingChanges"] = "20000",
        }).AddInMemoryCollection(ExtraSettings).Build();
        var builder = new InProcessTestClusterBuilder(Silos);
        builder.ConfigureSilo((_, silo) => silo.AddSaikiPipeline(configuration));
        if (Environment.GetEnvironmentVariable("SAIKI_TEST_LOGS") == "1")
        {
            builder.ConfigureSiloHost((_, host) => Microsoft.Extensions.Logging.ConsoleLoggerExtensions.AddConsole(host.Logging));
        }
        // Tests publish batches of their own to exercise cleansing directly.
        builder.ConfigureClient(client => client.AddMemoryStreams(SaikiNames.StreamProvider));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new SaikiClient(Cluster.Client);
        Lake = new S3LakeStore(s3);
        await Lake.EnsureBucketAsync();
    }

    /// <summary>
    /// Waits until the lake's replay of <paramref name="table"/> equals the table, then asserts that it does and
    /// that the lake broke none of its rules (no duplicate or out-of-order position, row counts as listed).
    /// </summary>
    public Task<LakeReplay> AssertLakeMatchesAsync(TestDatabase db, string source, string table, IReadOnlyList<string> key, int partitions, TimeSpan? timeout = null) =>
        AssertLakeMatchesAsync(() => db.ReadTableAsync(table, key), source, table, key, partitions, timeout);

    /// <summary>The same check against rows read by <paramref name="readExpected"/> (key text → column → value).</summary>
    public async Task<LakeReplay> AssertLakeMatchesAsync(Func<Task<Dictionary<string, Dictionary<string, string?>>>> readExpected, string source, string table,
        IReadOnlyList<string> key, int partitions, TimeSpan? timeout = null)
    {
        var expected = await readExpected();
        var replay = await Eventually.MatchAsync(
            () => LakeReplay.LoadAsync(Lake, Layout, source, table, key, partitions),
            r => LakeReplay.Compare(expected, r.Rows).Count == 0,
            timeout);
        Assert.Empty(replay.Problems);
        Assert.Empty(LakeReplay.Compare(expected, replay.Rows));
        return replay;
    }

    /// <summary>Kills, without warning, the silo where <paramref name="grain"/> is active; returns that silo.</summary>
    public async Task<InProcessSiloHandle> KillSiloHoldingAsync(IAddressable grain)
    {
        Assert.True(Cluster.TryGetGrainContext(grain.GetGrainId(), out var context), "the grain is not active");
        var victim = Cluster.GetSiloForAddress(context!.Address.SiloAddress!)!;
        await Cluster.KillSiloAsync(victim);
        return victim;
    }

    public virtual async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Lake.Dispose();
        await State.DisposeAsync();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineCluster>
{
    public const string Name = "pipeline";
}

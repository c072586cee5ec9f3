using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>
/// librdkafka's built-in mock cluster, in process: real Kafka wire protocol on loopback ports, no broker to
/// install. The native library ships inside Confluent.Kafka (librdkafka.redist).
/// </summary>
public sealed partial class KafkaMockCluster : IDisposable
{
    private const string Library = "librdkafka";
    private static IntPtr _handle;

    private readonly IntPtr _client;
    private readonly IntPtr _cluster;

    static KafkaMockCluster() => NativeLibrary.SetDllImportResolver(typeof(KafkaMockCluster).Assembly, Resolve);

    public KafkaMockCluster(int brokers = 3)
    {
        var error = new StringBuilder(512);
        var conf = rd_kafka_conf_new();
        // A producer handle only hosts the cluster; it never produces.
        _client = rd_kafka_new(0, conf, error, (UIntPtr)error.Capacity);
        if (_client == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {error}");
        }
        _cluster = rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(_client);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        // New consumer groups otherwise wait 3 s before their first assignment.
        rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary><c>host:port,…</c> of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates a topic (the admin API's CreateTopics does not work against the mock cluster).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var rc = rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor);
        if (rc != 0)
        {
            throw new InvalidOperationException($"creating topic {topic} failed with error code {rc}");
        }
    }

    /// <summary>Makes the next Produce requests fail with these Kafka error codes (e.g. 6, NOT_LEADER_OR_FOLLOWER).</summary>
    public void FailNextProduceRequests(params int[] errorCodes) =>
        rd_kafka_mock_push_request_errors_array(_cluster, 0, (UIntPtr)errorCodes.Length, errorCodes);

    /// <summary>Disconnects every broker and refuses new connections (a broker outage), or ends it.</summary>
    public void SetBrokersDown(bool down)
    {
        var rc = down ? rd_kafka_mock_broker_set_down(_cluster, -1) : rd_kafka_mock_broker_set_up(_cluster, -1);
        if (rc != 0)
        {
            throw new InvalidOperationException($"changing broker state failed with error code {rc}");
        }
    }

    public void Dispose()
    {
        rd_kafka_mock_cluster_destroy(_cluster);
        rd_kafka_destroy(_client);
    }

    // Debian has libsasl2.so.2, so librdkafka.so (linked against .so.3) cannot load; Confluent.Kafka falls back
    // to the centos8 build, and so must these imports.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }
        if (_handle != IntPtr.Zero)
        {
            return _handle;
        }
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so" })
        {
            if (NativeLibrary.TryLoad(Path.Combine(dir, file), out var handle))
            {
                _handle = handle;
                return handle;
            }
        }
        return IntPtr.Zero;
    }

    [DllImport(Library)] private static extern IntPtr rd_kafka_conf_new();
    [DllImport(Library)] private static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);
    [DllImport(Library)] private static extern void rd_kafka_destroy(IntPtr rk);
    [DllImport(Library)] private static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [DllImport(Library)] private static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
    [DllImport(Library)] private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
    [DllImport(Library)] private static extern int rd_kafka_mock_topic_create(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replicationFactor);
    [DllImport(Library)] private static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr cluster, int delayMs);
    [DllImport(Library)] private static extern void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);
    [DllImport(Library)] private static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);
    [DllImport(Library)] private static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
}

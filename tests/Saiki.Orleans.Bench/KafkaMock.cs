using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Saiki.Orleans.Bench;

/// <summary>
/// librdkafka's built-in mock cluster, in process: the real Kafka wire protocol on loopback ports, so both the
/// publisher and the plain producer it is compared with talk to a broker without one being installed. The native
/// library ships inside Confluent.Kafka (librdkafka.redist). A copy of the test suite's helper, trimmed to what the
/// benchmark needs: the benchmark does not reference the test project.
/// </summary>
internal sealed partial class KafkaMock : IDisposable
{
    private const string Library = "librdkafka";
    private static IntPtr _handle;

    private readonly IntPtr _client;
    private readonly IntPtr _cluster;

    static KafkaMock() => NativeLibrary.SetDllImportResolver(typeof(KafkaMock).Assembly, Resolve);

    public unsafe KafkaMock(int brokers)
    {
        var error = new byte[512];
        fixed (byte* text = error)
        {
            var conf = rd_kafka_conf_new();
            // The hosting handle has no bootstrap.servers and would warn about it on stderr amid the progress lines.
            if (rd_kafka_conf_set(conf, "log_level", "3", text, (nuint)error.Length) != 0)
            {
                throw new InvalidOperationException($"rd_kafka_conf_set failed: {Encoding.UTF8.GetString(error).TrimEnd('\0')}");
            }
            // A producer handle only hosts the cluster; it never produces. rd_kafka_new takes ownership of the conf.
            _client = rd_kafka_new(0, conf, text, (nuint)error.Length);
        }
        if (_client == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {Encoding.UTF8.GetString(error).TrimEnd('\0')}");
        }
        _cluster = rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(_client);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary><c>host:port,…</c> of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates a topic (the admin API's CreateTopics does not work against the mock cluster).</summary>
    public void CreateTopic(string topic, int partitions)
    {
        var rc = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (rc != 0)
        {
            throw new InvalidOperationException($"creating topic {topic} failed with error code {rc}");
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

    [LibraryImport(Library)] private static partial IntPtr rd_kafka_conf_new();
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static unsafe partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte* errstr, nuint errstrSize);
    [LibraryImport(Library)] private static unsafe partial IntPtr rd_kafka_new(int type, IntPtr conf, byte* errstr, nuint errstrSize);
    [LibraryImport(Library)] private static partial void rd_kafka_destroy(IntPtr rk);
    [LibraryImport(Library)] private static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [LibraryImport(Library)] private static partial void rd_kafka_mock_cluster_destroy(IntPtr cluster);
    [LibraryImport(Library)] private static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);
}

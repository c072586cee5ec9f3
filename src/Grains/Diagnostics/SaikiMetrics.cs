using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Saiki.Orleans.Diagnostics;

/// <summary>The pipeline's instruments (meter <c>Saiki.Orleans</c>), exported through OpenTelemetry by the silo.</summary>
public static class SaikiMetrics
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "Saiki.Orleans";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Changes read from sources (replays included).</summary>
    public static readonly Counter<long> ChangesCaptured = Meter.CreateCounter<long>("saiki.capture.changes", "{change}", "Changes read from source databases");

    /// <summary>Changes written to lake files.</summary>
    public static readonly Counter<long> RowsWritten = Meter.CreateCounter<long>("saiki.lake.rows", "{change}", "Changes written to lake files");

    /// <summary>Lake files written.</summary>
    public static readonly Counter<long> FilesWritten = Meter.CreateCounter<long>("saiki.lake.files", "{file}", "Lake files written");

    /// <summary>Bytes written to the lake.</summary>
    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("saiki.lake.bytes", "By", "Compressed bytes written to the lake");

    /// <summary>Iceberg snapshots committed.</summary>
    public static readonly Counter<long> IcebergCommits = Meter.CreateCounter<long>("saiki.lake.iceberg.commits", "{snapshot}", "Iceberg snapshots committed");

    /// <summary>Expired Iceberg files (replaced data files, old manifests, metadata) deleted from the lake.</summary>
    public static readonly Counter<long> IcebergFilesPurged = Meter.CreateCounter<long>("saiki.lake.iceberg.files.purged", "{file}", "Expired Iceberg files deleted");

    /// <summary>Data files compaction replaced.</summary>
    public static readonly Counter<long> FilesCompacted = Meter.CreateCounter<long>("saiki.lake.iceberg.files.compacted", "{file}", "Data files compaction rewrote into larger ones");

    /// <summary>Time an Iceberg commit takes (manifest, manifest list, metadata, state).</summary>
    public static readonly Histogram<double> IcebergCommitSeconds = Meter.CreateHistogram<double>("saiki.lake.iceberg.commit.duration", "s", "Time to commit one Iceberg snapshot");

    /// <summary>Acknowledgements a source refused (another sender, or a position it never emitted).</summary>
    public static readonly Counter<long> AcknowledgementsRefused = Meter.CreateCounter<long>("saiki.source.acknowledgements.refused", "{acknowledgement}", "Partition acknowledgements naming positions the source never emitted to them, refused");

    /// <summary>Replayed changes dropped because they were already durable.</summary>
    public static readonly Counter<long> DuplicatesDropped = Meter.CreateCounter<long>("saiki.cleanse.duplicates", "{change}", "Replayed changes dropped by position");

    /// <summary>Time from a flush's start to its durable manifest entry.</summary>
    public static readonly Histogram<double> FlushSeconds = Meter.CreateHistogram<double>("saiki.lake.flush.duration", "s", "Duration of a partition flush");

    /// <summary>Changes a sink refused for good, kept as dead letters.</summary>
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("saiki.deadletters", "{change}", "Changes a sink refused for good, written to the dead-letter location");

    /// <summary>Failed lake writes (retried).</summary>
    public static readonly Counter<long> FlushErrors = Meter.CreateCounter<long>("saiki.lake.flush.errors", "{error}", "Failed lake writes, retried");

    /// <summary>Process deadlines missed.</summary>
    public static readonly Counter<long> Breaches = Meter.CreateCounter<long>("saiki.process.breaches", "{breach}", "Business-process deadlines missed");

    /// <summary>Breaches not announced on Kafka or the webhook (queue full, or delivery failed after retries); they stay queryable.</summary>
    public static readonly Counter<long> BreachesUnannounced = Meter.CreateCounter<long>("saiki.process.breaches.unannounced", "{breach}", "Breaches not announced on Kafka or the webhook");

    /// <summary>Events applied by process monitoring.</summary>
    public static readonly Counter<long> ProcessEvents = Meter.CreateCounter<long>("saiki.process.events", "{event}", "Cleansed changes routed to process monitoring");

    private static readonly ConcurrentDictionary<string, SourceGauges> Sources = new(StringComparer.Ordinal);

    static SaikiMetrics()
    {
        Meter.CreateObservableGauge("saiki.source.lag", () => Observe(g => g.LagBytes), "By", "WAL between the source's current LSN and the confirmed LSN");
        Meter.CreateObservableGauge("saiki.source.retained_wal", () => Observe(g => g.RetainedBytes), "By", "WAL the replication slot keeps on the source");
        Meter.CreateObservableGauge("saiki.source.lag_seconds", () => Observe(g => g.LagSeconds), "s", "Age of the oldest committed change not yet durable");
    }

    /// <summary>Publishes a source's current lag figures (one activation per source reports them).</summary>
    public static void ReportSource(string sourceId, SourceGauges gauges) => Sources[sourceId] = gauges;

    /// <summary>Stops reporting a source.</summary>
    public static void ForgetSource(string sourceId) => Sources.TryRemove(sourceId, out _);

    private static IEnumerable<Measurement<double>> Observe(Func<SourceGauges, double> value) =>
        Sources.Select(s => new Measurement<double>(value(s.Value), new KeyValuePair<string, object?>("source", s.Key)));
}

/// <summary>A source's lag figures for the gauges.</summary>
public sealed record SourceGauges(double LagBytes, double RetainedBytes, double LagSeconds);

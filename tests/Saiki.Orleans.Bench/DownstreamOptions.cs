using System.Globalization;

namespace Saiki.Orleans.Bench;

/// <summary>Arguments of <c>downstream</c>; the defaults are the issue's workload, the rest exists for quicker trial runs.</summary>
internal sealed record DownstreamOptions
{
    public const string Help = """
          --s3 URL              S3 endpoint, e.g. s3rver (default: $SAIKI_S3_URL)
          --s3-access-key KEY   (default: $SAIKI_S3_ACCESS_KEY)
          --s3-secret-key KEY   (default: $SAIKI_S3_SECRET_KEY)
          --only PARTS          comma-separated subset of s3,kafka (default: both)
          --rows N              row changes written to the lake, half inserts then half updates (default: 1000000)
          --kafka-rows N        row changes published to Kafka (default: 500000)
          --partitions N        table partitions, i.e. flushes in flight at once (default: 4)
          --file-rows N         changes per lake file and per Kafka batch (default: 50000, the default MaxBufferedChanges)
          --kafka-partitions N  partitions of the Kafka topic (default: 8)
          --kafka-producer K=V  extra librdkafka producer setting for both sides, as Saiki:Kafka:Producer (repeatable)
          --repeat N            runs of each measurement; the best one is reported (default: 2)
          --timeout S           longest any one measurement may take (default: 120)
          --keep                keep the bucket and its objects
        """;

    public string S3Url { get; init; } = "";
    public string S3AccessKey { get; init; } = "";
    public string S3SecretKey { get; init; } = "";
    public HashSet<string> Parts { get; init; } = ["s3", "kafka"];
    public int Rows { get; init; } = 1_000_000;
    public int KafkaRows { get; init; } = 500_000;
    public int Partitions { get; init; } = 4;
    public int FileRows { get; init; } = 50_000;
    public int KafkaPartitions { get; init; } = 8;
    public Dictionary<string, string> KafkaProducer { get; init; } = new(StringComparer.Ordinal);
    public int Repeat { get; init; } = 2;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    public bool Keep { get; init; }

    /// <summary>Parses the arguments after the subcommand; returns null and a message on a bad one.</summary>
    public static (DownstreamOptions? Options, string? Error) Parse(string[] args)
    {
        var o = new DownstreamOptions
        {
            S3Url = Environment.GetEnvironmentVariable("SAIKI_S3_URL") ?? "",
            S3AccessKey = Environment.GetEnvironmentVariable("SAIKI_S3_ACCESS_KEY") ?? "",
            S3SecretKey = Environment.GetEnvironmentVariable("SAIKI_S3_SECRET_KEY") ?? "",
        };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value");
            int Count(int min) =>
                int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                    ? n : throw new FormatException($"{name} needs a whole number of at least {min}");
            try
            {
                o = name switch
                {
                    "--s3" => o with { S3Url = Next() },
                    "--s3-access-key" => o with { S3AccessKey = Next() },
                    "--s3-secret-key" => o with { S3SecretKey = Next() },
                    "--only" => o with { Parts = ParseParts(Next()) },
                    "--rows" => o with { Rows = Count(2) },
                    "--kafka-rows" => o with { KafkaRows = Count(2) },
                    "--partitions" => o with { Partitions = Count(1) },
                    "--file-rows" => o with { FileRows = Count(1) },
                    "--kafka-partitions" => o with { KafkaPartitions = Count(1) },
                    "--kafka-producer" => o with { KafkaProducer = WithSetting(o.KafkaProducer, Next()) },
                    "--repeat" => o with { Repeat = Count(1) },
                    "--timeout" => o with { Timeout = TimeSpan.FromSeconds(Count(10)) },
                    "--keep" => o with { Keep = true },
                    _ => throw new FormatException($"unknown option {name}"),
                };
            }
            catch (FormatException e)
            {
                return (null, e.Message);
            }
        }
        if (o.Parts.Contains("s3"))
        {
            if (!Uri.TryCreate(o.S3Url, UriKind.Absolute, out _))
            {
                return (null, "no S3 endpoint given: set SAIKI_S3_URL or pass --s3 (scripts/bench.sh downstream starts s3rver)");
            }
            if (string.IsNullOrEmpty(o.S3AccessKey) || string.IsNullOrEmpty(o.S3SecretKey))
            {
                return (null, "no S3 credentials: set SAIKI_S3_ACCESS_KEY and SAIKI_S3_SECRET_KEY or pass --s3-access-key and --s3-secret-key");
            }
        }
        return (o, null);
    }

    private static Dictionary<string, string> WithSetting(Dictionary<string, string> settings, string value)
    {
        var eq = value.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new FormatException($"--kafka-producer takes name=value, not '{value}'");
        }
        return new Dictionary<string, string>(settings, StringComparer.Ordinal) { [value[..eq]] = value[(eq + 1)..] };
    }

    private static HashSet<string> ParseParts(string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = parts.Except(["s3", "kafka"]).ToArray();
        if (parts.Count == 0 || unknown.Length > 0)
        {
            throw new FormatException($"--only takes s3 and kafka; not '{string.Join(",", unknown)}'");
        }
        return parts;
    }
}

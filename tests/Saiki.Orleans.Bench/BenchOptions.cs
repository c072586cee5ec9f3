using System.Globalization;

namespace Saiki.Orleans.Bench;

/// <summary>Arguments of <c>postgres</c>; the defaults are the issue's workload, the rest exists for quicker trial runs.</summary>
internal sealed record BenchOptions
{
    public const string Help = """
          --pg CONNECTION       Npgsql connection string (default: $SAIKI_PG_CONNECTION)
          --pg-bin DIR          PostgreSQL client binaries with pg_recvlogical (default: $SAIKI_PG_BIN)
          --silo PATH           silo dll (default: src/Silo/bin/Release/net10.0/Saiki.Orleans.Silo.dll in this repository)
          --only PARTS          comma-separated subset of stream,latency,snapshot (default: all)
          --stream-rows N       row changes streamed, half inserts then half updates (default: 1000000)
          --txn-rows N          rows per streaming transaction; 0 = one INSERT and one UPDATE transaction (default: 0)
          --snapshot-rows N     rows of the snapshot table (default: 5000000)
          --rate N              rows/s of the latency workload (default: 5000)
          --latency-seconds S   duration of the latency workload (default: 20)
          --timeout S           longest wait for any one measured part (default: 240)
          --keep                keep the temporary directory (lake, state, silo log)
        """;

    public string ConnectionString { get; init; } = "";
    public string PgBin { get; init; } = "";
    public string SiloDll { get; init; } = "";
    public HashSet<string> Parts { get; init; } = ["stream", "latency", "snapshot"];
    public int StreamRows { get; init; } = 1_000_000;
    public int TransactionRows { get; init; }
    public int SnapshotRows { get; init; } = 5_000_000;
    public int Rate { get; init; } = 5_000;
    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(240);
    public bool Keep { get; init; }

    /// <summary>Parses the arguments after the subcommand; returns null and a message on a bad one.</summary>
    public static (BenchOptions? Options, string? Error) Parse(string[] args)
    {
        var o = new BenchOptions
        {
            ConnectionString = Environment.GetEnvironmentVariable("SAIKI_PG_CONNECTION") ?? "",
            PgBin = Environment.GetEnvironmentVariable("SAIKI_PG_BIN") ?? "",
            SiloDll = DefaultSiloDll(),
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
                    "--pg" => o with { ConnectionString = Next() },
                    "--pg-bin" => o with { PgBin = Next() },
                    "--silo" => o with { SiloDll = Path.GetFullPath(Next()) },
                    "--only" => o with { Parts = ParseParts(Next()) },
                    "--stream-rows" => o with { StreamRows = Count(2) },
                    "--txn-rows" => o with { TransactionRows = Count(0) },
                    "--snapshot-rows" => o with { SnapshotRows = Count(1) },
                    "--rate" => o with { Rate = Count(50) },
                    "--latency-seconds" => o with { LatencyDuration = TimeSpan.FromSeconds(Count(1)) },
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
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            return (null, "no PostgreSQL given: set SAIKI_PG_CONNECTION or pass --pg (scripts/bench.sh starts one)");
        }
        if (o.Parts.Contains("stream") && !File.Exists(Path.Combine(o.PgBin, "pg_recvlogical")))
        {
            return (null, $"pg_recvlogical not found in '{o.PgBin}': set SAIKI_PG_BIN or pass --pg-bin");
        }
        if (!File.Exists(o.SiloDll))
        {
            return (null, $"silo not built: {o.SiloDll} is missing (dotnet build src/Silo -c Release, or pass --silo)");
        }
        return (o, null);
    }

    private static HashSet<string> ParseParts(string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = parts.Except(["stream", "latency", "snapshot"]).ToArray();
        if (parts.Count == 0 || unknown.Length > 0)
        {
            throw new FormatException($"--only takes stream, latency and snapshot; not '{string.Join(",", unknown)}'");
        }
        return parts;
    }

    /// <summary>The Release silo of the repository this benchmark was built in (found by walking up to the solution file).</summary>
    internal static string DefaultSiloDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Saiki.Orleans.sln")))
            {
                return Path.Combine(dir.FullName, "src", "Silo", "bin", "Release", "net10.0", "Saiki.Orleans.Silo.dll");
            }
        }
        return "Saiki.Orleans.Silo.dll";
    }
}

using Saiki.Orleans.Bench;

// One benchmark per subcommand. Progress goes to stderr; stdout carries only the final name=value lines, so a
// caller can `grep =` or parse them without filtering.
var command = args.FirstOrDefault();
return command switch
{
    "postgres" => await PostgresBench.RunAsync(args[1..]),
    "downstream" => await DownstreamBench.RunAsync(args[1..]),
    "monitoring" => MonitoringBench.Run(args[1..]),
    "dynamodb" => await DynamoBench.RunAsync(args[1..]),
    "-h" or "--help" or "help" => Usage(0),
    null => Usage(2),
    _ => Usage(2, $"unknown benchmark '{command}'"),
};

static int Usage(int exitCode, string? problem = null)
{
    if (problem is not null)
    {
        Console.Error.WriteLine($"bench: {problem}");
    }
    Console.Error.WriteLine("usage: Saiki.Orleans.Bench postgres [options]");
    Console.Error.WriteLine(BenchOptions.Help);
    Console.Error.WriteLine("       Saiki.Orleans.Bench downstream [options]");
    Console.Error.WriteLine(DownstreamOptions.Help);
    Console.Error.WriteLine("       Saiki.Orleans.Bench monitoring [options]");
    Console.Error.WriteLine(MonitoringBench.Help);
    Console.Error.WriteLine("       Saiki.Orleans.Bench dynamodb [options]");
    Console.Error.WriteLine(DynamoBench.Help);
    return exitCode;
}

using Saiki.Orleans.Cli;

return await SaikiCli.RunAsync(args, Console.Out, Console.Error, !Console.IsOutputRedirected);

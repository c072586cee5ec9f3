using Saiki.Orleans.Silo.Demo;
using Saiki.Orleans.Silo.Hosting;

if (args.Length > 0 && args[0] == "demo")
{
    return await DemoJob.RunAsync(args[1..]);
}
if (args.Length > 1 && args[0] == "schema" && args[1] == "apply")
{
    return await SchemaCommand.ApplyAsync(args[2..]);
}
await SaikiHost.Build(args).RunAsync();
return 0;

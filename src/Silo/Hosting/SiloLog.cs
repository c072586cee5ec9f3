namespace Saiki.Orleans.Silo.Hosting;

internal static partial class SiloLog
{
    [LoggerMessage(2001, LogLevel.Warning, "No API tokens are configured (Saiki:Api:WriteTokens): anyone who reaches this silo's HTTP port may register and remove sources")]
    public static partial void ApiOpen(ILogger logger);
}

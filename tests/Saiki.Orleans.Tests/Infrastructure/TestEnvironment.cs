namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>Connection settings of the real services started by <c>scripts/services.sh</c> (see <c>scripts/test.sh</c>).</summary>
public static class TestEnvironment
{
    public static string PostgresConnection => Require("SAIKI_PG_CONNECTION");
    public static string PlainPostgresConnection => Require("SAIKI_PG_PLAIN_CONNECTION");
    public static string S3Url => Require("SAIKI_S3_URL");
    public static string S3AccessKey => Require("SAIKI_S3_ACCESS_KEY");
    public static string S3SecretKey => Require("SAIKI_S3_SECRET_KEY");
    public static string DynamoUrl => Require("SAIKI_DYNAMODB_URL");

    /// <summary>The repository root (the directory holding Saiki.Orleans.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Saiki.Orleans.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("the repository root (with Saiki.Orleans.sln) is not above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs a program to its end; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: the tests talk to real services. Run them with scripts/test.sh, or eval \"$(scripts/services.sh start)\" first");
}

namespace Saiki.Orleans.Tests.Infrastructure;

/// <summary>Connection settings of the real services started by <c>scripts/services.sh</c> (see <c>scripts/test.sh</c>).</summary>
public static class TestEnvironment
{
    public static string PostgresConnection => Require("SAIKI_PG_CONNECTION");
    public static string PlainPostgresConnection => Require("SAIKI_PG_PLAIN_CONNECTION");
    public static string S3Url => Require("SAIKI_S3_URL");
    public static string S3AccessKey => Require("SAIKI_S3_ACCESS_KEY");
    public static string S3SecretKey => Require("SAIKI_S3_SECRET_KEY");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: the tests talk to real services. Run them with scripts/test.sh, or eval \"$(scripts/services.sh start)\" first");
}

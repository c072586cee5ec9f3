using System.Text;
using Amazon.Runtime;
using Saiki.Orleans.Capture.Dynamo;

namespace Saiki.Orleans.Tests.Dynamo;

/// <summary>
/// The signer against cases of AWS's published SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30): the same
/// credentials, region, service and clock, and the published <c>Authorization</c> headers.
/// </summary>
public sealed class SigV4Tests
{
    private static readonly ImmutableCredentials Suite = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
    private static readonly DateTimeOffset SuiteTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private const string Scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

    // The token of the suite's post-sts-token cases.
    private const string SuiteToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    [Fact]
    public void GetVanilla_SignsToThePublishedAuthorization()
    {
        var signed = Sign("GET", "https://example.amazonaws.com/", [], "", Suite);

        Assert.Equal(Scope + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", signed.Authorization);
        Assert.Equal("20150830T123600Z", signed.AmzDate);
        Assert.Null(signed.SecurityToken);
        Assert.Equal(
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            signed.CanonicalRequest);
    }

    [Fact]
    public void PostXWwwFormUrlencoded_SignsTheContentTypeAndTheBody()
    {
        var signed = Sign("POST", "https://example.amazonaws.com/", [new("Content-Type", "application/x-www-form-urlencoded")], "Param1=value1", Suite);

        Assert.Equal(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            signed.StringToSign);
        Assert.Equal(Scope + "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a", signed.Authorization);

        // Any other body is another signature.
        Assert.NotEqual(signed.Authorization, Sign("POST", "https://example.amazonaws.com/", [new("Content-Type", "application/x-www-form-urlencoded")], "Param1=value2", Suite).Authorization);
    }

    [Fact]
    public void PostStsHeaderBefore_SignsAndReturnsTheSessionToken()
    {
        var signed = Sign("POST", "https://example.amazonaws.com/", [], "", new ImmutableCredentials(Suite.AccessKey, Suite.SecretKey, SuiteToken));

        Assert.Equal(Scope + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead", signed.Authorization);
        Assert.Equal(SuiteToken, signed.SecurityToken);
    }

    [Fact]
    public void GetVanillaQueryOrderKeyCase_SortsTheQuery()
    {
        var signed = Sign("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", [], "", Suite);

        Assert.Equal(Scope + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", signed.Authorization);
    }

    [Fact]
    public void HeaderNames_AreLowerCasedAndSorted_ValuesTrimmedWithSpacesCollapsed_AndTheClockIsUtc()
    {
        // The same instant at UTC+2, and header spelling the canonical form must not depend on.
        var signed = Sign("post", "http://127.0.0.1:8000/", [new("X-Amz-Target", "  DynamoDBStreams_20120810.GetRecords "), new("CONTENT-TYPE", "a   b")], "{}", Suite,
            SuiteTime.ToOffset(TimeSpan.FromHours(2)));

        Assert.Equal(
            "POST\n/\n\ncontent-type:a b\nhost:127.0.0.1:8000\nx-amz-date:20150830T123600Z\nx-amz-target:DynamoDBStreams_20120810.GetRecords\n\n" +
            "content-type;host;x-amz-date;x-amz-target\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            signed.CanonicalRequest);
        Assert.Throws<ArgumentException>(() => Sign("GET", "https://example.amazonaws.com/", [new("Host", "example.amazonaws.com")], "", Suite));
    }

    private static SigV4Signature Sign(
        string method, string url, KeyValuePair<string, string>[] headers, string body, ImmutableCredentials credentials, DateTimeOffset? time = null) =>
        SigV4.Sign(method, new Uri(url), headers, Encoding.UTF8.GetBytes(body), credentials, "us-east-1", "service", time ?? SuiteTime);
}

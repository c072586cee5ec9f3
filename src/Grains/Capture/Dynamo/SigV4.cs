using System.Globalization;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace Saiki.Orleans.Capture.Dynamo;

/// <summary>
/// AWS Signature Version 4 for requests that carry their whole body (no chunked or unsigned payloads). The key
/// derivation and the hashes are AWSSDK.Core's (<see cref="AWS4Signer"/>); the canonical request is built here.
/// </summary>
public static class SigV4
{
    /// <summary>The algorithm name in the <c>Authorization</c> header and the string to sign.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Signs a request. The signed headers are <c>host</c> (from <paramref name="url"/>), <c>x-amz-date</c>,
    /// <c>x-amz-security-token</c> when <paramref name="credentials"/> has a session token, and every header in
    /// <paramref name="headers"/> (names compared case-insensitively; do not pass <c>Host</c>).
    /// </summary>
    /// <param name="method">HTTP method, e.g. <c>POST</c>.</param>
    /// <param name="url">Absolute request URL; its path and query are canonicalized as for every service but S3.</param>
    /// <param name="headers">Further headers to sign and send, e.g. <c>Content-Type</c>.</param>
    /// <param name="body">The exact request body (empty for none).</param>
    /// <param name="credentials">Access key, secret key and optional session token.</param>
    /// <param name="region">Signing region, e.g. <c>us-east-1</c>.</param>
    /// <param name="service">Signing service name, e.g. <c>dynamodb</c>.</param>
    /// <param name="time">Signing time; converted to UTC.</param>
    /// <returns>The headers to add to the request, with the intermediate strings for diagnostics.</returns>
    public static SigV4Signature Sign(
        string method,
        Uri url,
        IEnumerable<KeyValuePair<string, string>> headers,
        ReadOnlySpan<byte> body,
        ImmutableCredentials credentials,
        string region,
        string service,
        DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(credentials);
        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException("the URL to sign must be absolute", nameof(url));
        }
        var utc = time.UtcDateTime;
        var amzDate = utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];

        var canonicalHeaders = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            var key = name.Trim().ToLowerInvariant();
            if (key == "host")
            {
                throw new ArgumentException("the host header is taken from the URL; do not pass it", nameof(headers));
            }
            canonicalHeaders[key] = CanonicalHeaderValue(value);
        }
        canonicalHeaders["host"] = url.Authority;
        canonicalHeaders["x-amz-date"] = amzDate;
        var token = credentials.UseToken ? credentials.Token : null;
        if (token is not null)
        {
            canonicalHeaders["x-amz-security-token"] = token;
        }

        var signedHeaders = string.Join(';', canonicalHeaders.Keys);
        var canonicalRequest = new StringBuilder()
            .Append(method.ToUpperInvariant()).Append('\n')
            .Append(CanonicalPath(url)).Append('\n')
            .Append(CanonicalQuery(url)).Append('\n');
        foreach (var (name, value) in canonicalHeaders)
        {
            canonicalRequest.Append(name).Append(':').Append(value).Append('\n');
        }
        canonicalRequest.Append('\n').Append(signedHeaders).Append('\n').Append(Hex(AWS4Signer.ComputeHash(body.ToArray())));

        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(AWS4Signer.ComputeHash(canonicalRequest.ToString()))}";
        var signingKey = AWS4Signer.ComposeSigningKey(credentials.SecretKey, region, date, service);
        var signature = Hex(AWS4Signer.ComputeKeyedHash(SigningAlgorithm.HmacSHA256, signingKey, stringToSign));
        var authorization = $"{Algorithm} Credential={credentials.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
        return new SigV4Signature(authorization, amzDate, token, canonicalRequest.ToString(), stringToSign);
    }

    /// <summary>Trims a header value and collapses each run of spaces to one (values are not case-folded).</summary>
    private static string CanonicalHeaderValue(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value.Trim())
        {
            if (c != ' ' || sb.Length == 0 || sb[^1] != ' ')
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// The path as sent (already percent-encoded once) with dot and empty segments removed, each segment encoded
    /// again: the double encoding every service but S3 expects.
    /// </summary>
    private static string CanonicalPath(Uri url)
    {
        var segments = new List<string>();
        foreach (var segment in url.AbsolutePath.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }
                continue;
            }
            segments.Add(Encode(segment));
        }
        var path = "/" + string.Join('/', segments);
        return url.AbsolutePath.EndsWith('/') && segments.Count > 0 ? path + "/" : path;
    }

    /// <summary>Query parameters encoded, sorted by name then value; a parameter without <c>=</c> has an empty value.</summary>
    private static string CanonicalQuery(Uri url)
    {
        var query = url.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return "";
        }
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p =>
            {
                var eq = p.IndexOf('=');
                var name = eq < 0 ? p : p[..eq];
                var value = eq < 0 ? "" : p[(eq + 1)..];
                return (Name: Encode(Unescape(name)), Value: Encode(Unescape(value)));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));

        static string Unescape(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
    }

    /// <summary>RFC 3986 percent-encoding of UTF-8 bytes: everything but <c>A-Z a-z 0-9 - _ . ~</c>, upper-case hex.</summary>
    private static string Encode(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            if (b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}

/// <summary>The result of <see cref="SigV4.Sign"/>.</summary>
/// <param name="Authorization">Value of the <c>Authorization</c> header.</param>
/// <param name="AmzDate">Value of the <c>X-Amz-Date</c> header (<c>yyyyMMddTHHmmssZ</c>).</param>
/// <param name="SecurityToken">Value of the <c>X-Amz-Security-Token</c> header; null when the credentials have no session token.</param>
/// <param name="CanonicalRequest">The canonical request that was hashed (for diagnostics and tests).</param>
/// <param name="StringToSign">The string that was signed (for diagnostics and tests).</param>
public sealed record SigV4Signature(string Authorization, string AmzDate, string? SecurityToken, string CanonicalRequest, string StringToSign);

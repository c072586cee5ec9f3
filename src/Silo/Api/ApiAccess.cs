using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Silo.Api;

/// <summary>Who may call the API. Section <c>Saiki:Api</c>.</summary>
public sealed class ApiOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Api";

    /// <summary>Bearer tokens that may register and remove sources (and read). None configured: writes are open,
    /// which only suits the embedded single-machine setup; the silo warns at start-up.</summary>
    public List<string> WriteTokens { get; set; } = [];
    /// <summary>Bearer tokens of operators: everything writers may, plus the Orleans dashboard.</summary>
    public List<string> OperatorTokens { get; set; } = [];
    /// <summary>Bearer tokens that may only read (dashboards, warehouses on the Iceberg catalog). With any configured,
    /// reads need a token (any of the three lists). Readers do not see webhook URLs or source error texts.</summary>
    public List<string> ReadTokens { get; set; } = [];
    /// <summary>Require a token (any configured one) for reads as well.</summary>
    public bool RequireTokenForReads { get; set; }
    /// <summary>Accept open writes (no tokens) on an address other than loopback. Without it such a silo refuses
    /// to start: anyone who reaches it could register and remove sources.</summary>
    public bool AllowOpenWrites { get; set; }

    internal bool Open => WriteTokens.Count == 0 && OperatorTokens.Count == 0;

    /// <summary>Reads need a token: asked for, or implied by read tokens.</summary>
    internal bool TokenForReads => RequireTokenForReads || ReadTokens.Count > 0;
}

internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public const int MIN_TOKEN_LENGTH = 16;

    public ValidateOptionsResult Validate(string? name, ApiOptions o)
    {
        var errors = new List<string>();
        // Never echo a token: name its list and position only.
        foreach (var (list, tokens) in new[] { ("WriteTokens", o.WriteTokens), ("OperatorTokens", o.OperatorTokens), ("ReadTokens", o.ReadTokens) })
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                if ((tokens[i]?.Length ?? 0) < MIN_TOKEN_LENGTH)
                {
                    errors.Add($"{ApiOptions.Section}:{list}:{i} is shorter than {MIN_TOKEN_LENGTH} characters");
                }
            }
        }
        if (o.TokenForReads && o.Open)
        {
            errors.Add($"{ApiOptions.Section}:{(o.RequireTokenForReads ? "RequireTokenForReads is set" : "ReadTokens are configured")} but no WriteTokens or OperatorTokens are: " +
                "writes would stay open while reads need a token");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Token access to the API: <c>Authorization: Bearer &lt;token&gt;</c> (HTTP Basic with the token as password only
/// on the operators' dashboard, so a browser can open it; elsewhere Basic is refused). Tokens are compared by hash in constant time and never logged.
/// </summary>
public static class ApiAccess
{
    /// <summary>Authentication scheme.</summary>
    public const string SchemeName = "SaikiToken";
    /// <summary>Policy for reads.</summary>
    public const string Read = "saiki.read";
    /// <summary>Policy for writes (registering and removing).</summary>
    public const string Write = "saiki.write";
    /// <summary>Policy for operators (the Orleans dashboard).</summary>
    public const string Operator = "saiki.operator";

    private const string WriterRole = "writer";
    private const string OperatorRole = "operator";
    private const string ReaderRole = "reader";

    /// <summary>
    /// Whether the caller may see what a read shows writers and operators only: webhook URLs (they may hold a
    /// secret path) and source error texts (they name hosts, users and databases). True when writes are open.
    /// </summary>
    public static bool SeesDetails(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.Open || context.User.IsInRole(WriterRole) || context.User.IsInRole(OperatorRole);

    /// <summary>What a reader sees instead of a detail only writers and operators see.</summary>
    public const string Hidden = "(hidden: needs a write or operator token)";

    /// <summary><paramref name="detail"/> for writers and operators, <see cref="Hidden"/> for readers (null stays null).</summary>
    public static string? Detail(HttpContext context, string? detail) => detail is null || SeesDetails(context) ? detail : Hidden;

    /// <summary>Adds the token scheme and the three policies.</summary>
    public static IServiceCollection AddApiAccess(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        services.AddHostedService<OpenWritesGuard>();
        services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, TokenHandler>(SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Read, p => p.RequireAssertion(c => !Options(c).TokenForReads || c.User.Identity?.IsAuthenticated == true))
            .AddPolicy(Write, p => p.RequireAssertion(c => Options(c).Open || c.User.IsInRole(WriterRole) || c.User.IsInRole(OperatorRole)))
            .AddPolicy(Operator, p => p.RequireAssertion(c => Options(c).Open || c.User.IsInRole(OperatorRole)));
        return services;
    }

    /// <summary>True when a listen URL (<c>http://127.0.0.1:5080</c>, <c>http://localhost:5080</c>) reaches loopback only; <c>+</c>, <c>*</c> and other hosts do not.</summary>
    public static bool IsLoopbackUrl(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }
        return uri.IsLoopback || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    /// <summary>
    /// Refuses to serve writes without tokens anywhere but on loopback, unless <see cref="ApiOptions.AllowOpenWrites"/>
    /// says so: the addresses are known only once the server listens, so the check runs right after it starts.
    /// </summary>
    private sealed class OpenWritesGuard(IOptions<ApiOptions> api, Microsoft.AspNetCore.Hosting.Server.IServer server) : IHostedLifecycleService
    {
        public Task StartedAsync(CancellationToken cancellationToken)
        {
            if (!api.Value.Open || api.Value.AllowOpenWrites)
            {
                return Task.CompletedTask;
            }
            var addresses = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            var exposed = addresses.Where(a => !IsLoopbackUrl(a)).ToArray();
            if (exposed.Length > 0)
            {
                throw new InvalidOperationException(
                    $"the API listens on {string.Join(", ", exposed)}, which is not loopback, and {ApiOptions.Section} has no WriteTokens or OperatorTokens: " +
                    $"anyone who reaches it could register and remove sources. Set {ApiOptions.Section}:WriteTokens (or OperatorTokens), " +
                    $"or {ApiOptions.Section}:AllowOpenWrites=true to accept open writes");
            }
            return Task.CompletedTask;
        }


        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static ApiOptions Options(AuthorizationHandlerContext context) =>
        (context.Resource as HttpContext ?? throw new InvalidOperationException("authorization outside a request"))
            .RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;

    private sealed class TokenHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder, IOptions<ApiOptions> api)
        : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) || header.Parameter is null)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var token = header.Scheme.ToLowerInvariant() switch
            {
                "bearer" => header.Parameter,
                // Basic only for the operators' dashboard, which a browser opens; the API itself takes bearer tokens.
                "basic" when Request.Path.StartsWithSegments(Saiki.Orleans.Silo.Hosting.SaikiHost.DashboardPath) => BasicPassword(header.Parameter),
                _ => null,
            };
            var role = token is null ? null
                : Matches(api.Value.OperatorTokens, token) ? OperatorRole
                : Matches(api.Value.WriteTokens, token) ? WriterRole
                : Matches(api.Value.ReadTokens, token) ? ReaderRole
                : null;
            if (role is null)
            {
                return Task.FromResult(AuthenticateResult.Fail("the token is not valid"));
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, role), new Claim(ClaimTypes.Role, role)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"saiki\"";
            return Task.CompletedTask;
        }

        private static string? BasicPassword(string parameter)
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? null : pair[(colon + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        private static bool Matches(IEnumerable<string> tokens, string candidate)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(candidate));
            var match = false;
            foreach (var token in tokens)
            {
                match |= CryptographicOperations.FixedTimeEquals(hash, SHA256.HashData(Encoding.UTF8.GetBytes(token)));
            }
            return match;
        }
    }
}

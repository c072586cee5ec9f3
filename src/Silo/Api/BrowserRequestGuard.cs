namespace Saiki.Orleans.Silo.Api;

/// <summary>
/// Refuses state-changing requests a page on another site could make a browser send. A cross-site form or a
/// "simple" fetch can POST without a JSON content type and without custom headers (so without preflight), and with
/// the browser's stored credentials; pause, resume and resnapshot, which take no body, were open to that. Every
/// POST, PUT and PATCH must therefore be JSON (<c>Content-Type: application/json</c>) or carry the header
/// <see cref="Header"/>; DELETE already needs a preflight, which the silo does not grant.
/// </summary>
public static class BrowserRequestGuard
{
    /// <summary>The header that marks a request as made by a client, not a form: any value.</summary>
    public const string Header = "X-Saiki-Request";

    /// <summary>Adds the guard.</summary>
    public static IApplicationBuilder UseBrowserRequestGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if ((HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))
            && !request.HasJsonContentType() && !request.Headers.ContainsKey(Header))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await context.Response.WriteAsJsonAsync(new
            {
                type = "https://tools.ietf.org/html/rfc9110#section-15.5.16",
                title = "The request was refused; nothing was changed.",
                status = StatusCodes.Status415UnsupportedMediaType,
                detail = $"a {request.Method} must send Content-Type: application/json or the header {Header} (a browser form on another site can send neither)",
            }, options: null, contentType: "application/problem+json");
            return;
        }
        await next();
    });
}

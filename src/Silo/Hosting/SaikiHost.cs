using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;
using Orleans.Configuration;
using Orleans.Dashboard;
using OpenTelemetry.Metrics;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Lake;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Client;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Silo.Api;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>Builds the silo process: Orleans, the pipeline, the REST API with OpenAPI, and the dashboard page.</summary>
public static class SaikiHost
{
    /// <summary>Prometheus scrape path.</summary>
    public const string MetricsPath = "/metrics";
    /// <summary>Where the Orleans dashboard is mounted (operators only).</summary>
    public const string DashboardPath = "/orleans";

    /// <summary>Host names a silo that listens on loopback only answers when <c>AllowedHosts</c> is not set.</summary>
    public const string LoopbackHosts = "localhost;127.0.0.1;[::1]";

    /// <summary>
    /// A silo listening on loopback only answers requests for loopback host names unless <c>AllowedHosts</c> says
    /// otherwise: a web page whose name an attacker points at 127.0.0.1 (DNS rebinding) reaches nothing. Elsewhere
    /// <c>AllowedHosts</c> is the deployment's to set (the Helm chart sets the Service's names and the pod's address).
    /// </summary>
    private static void LimitHosts(ConfigurationManager configuration)
    {
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (string.IsNullOrEmpty(configuration["AllowedHosts"]) && urls.Length > 0 && urls.All(ApiAccess.IsLoopbackUrl))
        {
            configuration["AllowedHosts"] = LoopbackHosts;
        }
    }

    /// <summary>Builds the application; <paramref name="configure"/> can add configuration (tests, the demo).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings and dashboard assets ship next to the binary; data paths stay relative to the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        LimitHosts(builder.Configuration);
        builder.Services.AddOptions<SiloOptions>().Bind(builder.Configuration.GetSection(SiloOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        // Clustering needs the ports before the options pipeline runs, so validate them here too.
        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        var check = new SiloOptionsValidator().Validate(null, silo);
        if (check.Failed)
        {
            throw new OptionsValidationException(SiloOptions.Section, typeof(SiloOptions), check.Failures);
        }
        var cluster = builder.Configuration.GetSection(ClusterStateOptions.Section).Get<ClusterStateOptions>() ?? new ClusterStateOptions();
        builder.UseOrleans(orleans =>
        {
            if (cluster.Kind == ClusterStateKind.AdoNet)
            {
                orleans.UseAdoNetClustering(o =>
                {
                    o.Invariant = ClusterStateOptions.Invariant;
                    o.ConnectionString = cluster.ConnectionString;
                });
                orleans.ConfigureEndpoints(AdvertisedAddress(silo), silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: true);
                orleans.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = silo.ClusterId;
                    o.ServiceId = silo.ServiceId;
                });
            }
            else
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, null, silo.ServiceId, silo.ClusterId);
            }
            if (silo.Name is { Length: > 0 } name)
            {
                orleans.Configure<global::Orleans.Configuration.SiloOptions>(o => o.SiloName = name);
            }
            SiloTls.Configure(orleans, silo.Tls);
            orleans.AddSaikiPipeline(builder.Configuration);
            orleans.AddDashboard();
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(silo.ShutdownTimeoutSeconds));
        builder.Services.AddSiloHealth();
        builder.Services.AddApiAccess(builder.Configuration);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SaikiMetrics.MeterName, "Microsoft.Orleans")
            .AddPrometheusExporter());
        builder.Services.AddSingleton<SaikiClient>();
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            if (context.Exception is BadHttpRequestException bad)
            {
                // A body that is not the JSON the endpoint takes: say where and what.
                context.ProblemDetails.Title = "The request body is not valid; nothing was changed.";
                context.ProblemDetails.Detail = ApiJson.Describe(bad);
            }
            else if (context.Exception is { } e && context.ProblemDetails.Status == StatusCodes.Status500InternalServerError)
            {
                // As Kafka Connect's REST API does, a request that failed inside says what failed (the reason, not the
                // stack, which goes to the log with the request), without the silo's file paths.
                context.ProblemDetails.Detail = ApiJson.WithoutPaths(e.Message);
            }
        });
        // Unreadable bodies reach the exception handler (and so a problem body) instead of an empty 400.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new EnumNamesConverter());
            o.SerializerOptions.Converters.Add(new PositionJsonConverter());
        });

        var app = builder.Build();
        if (app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.Open)
        {
            SiloLog.ApiOpen(app.Logger);
        }
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.MapOpenApi();
        app.UseBrowserRequestGuard();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapSiloHealth();
        // Open like the probes: scraped from inside the cluster, it carries no business data.
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        app.MapOrleansDashboard(DashboardPath).RequireAuthorization(ApiAccess.Operator);
        app.MapSourceEndpoints();
        app.MapLakeEndpoints();
        app.MapIcebergCatalogEndpoints();
        app.MapProcessEndpoints();
        app.MapEventEndpoints();
        return app;
    }

    /// <summary>The configured address (the pod IP on Kubernetes), else this machine's first IPv4 address that is
    /// not loopback, else loopback.</summary>
    private static IPAddress AdvertisedAddress(SiloOptions silo) =>
        silo.AdvertisedAddress is { Length: > 0 } configured
            ? IPAddress.Parse(configured)
            : Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
              ?? IPAddress.Loopback;
}

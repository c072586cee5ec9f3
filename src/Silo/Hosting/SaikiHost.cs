using System.Text.Json.Serialization;
using Saiki.Orleans.Lake;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Client;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Silo.Api;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>Builds the silo process: Orleans, the pipeline, the REST API with OpenAPI, and the dashboard page.</summary>
public static class SaikiHost
{
    /// <summary>Builds the application; <paramref name="configure"/> can add configuration (tests, the demo).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings and dashboard assets ship next to the binary; data paths stay relative to the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        builder.Services.AddOptions<SiloOptions>().Bind(builder.Configuration.GetSection(SiloOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        // Clustering needs the ports before the options pipeline runs, so validate them here too.
        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        var check = new SiloOptionsValidator().Validate(null, silo);
        if (check.Failed)
        {
            throw new OptionsValidationException(SiloOptions.Section, typeof(SiloOptions), check.Failures);
        }
        builder.UseOrleans(orleans => orleans
            .UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, null, silo.ServiceId, silo.ClusterId)
            .AddSaikiPipeline(builder.Configuration));
        builder.Services.AddSingleton<SaikiClient>();
        builder.Services.AddOpenApi();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.Converters.Add(new PositionJsonConverter());
        });

        var app = builder.Build();
        app.MapOpenApi();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapSourceEndpoints();
        app.MapLakeEndpoints();
        return app;
    }
}

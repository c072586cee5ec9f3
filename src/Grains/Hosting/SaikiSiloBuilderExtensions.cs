using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Storage;

namespace Saiki.Orleans.Hosting;

/// <summary>Registers the capture → cleanse → lake pipeline on a silo.</summary>
public static class SaikiSiloBuilderExtensions
{
    /// <summary>
    /// Adds options (validated at start-up), the lake store, grain state storage, the change streams and the
    /// source supervisor. Clustering is the host's choice.
    /// </summary>
    public static ISiloBuilder AddSaikiPipeline(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.AddOptions<LakeOptions>().Bind(configuration.GetSection(LakeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LakeOptions>, LakeOptionsValidator>();
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>();
        services.AddOptions<PrivacyOptions>().Bind(configuration.GetSection(PrivacyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PrivacyOptions>, PrivacyOptionsValidator>();
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<KafkaPublisher>();
        services.AddOptions<StateOptions>().Bind(configuration.GetSection(StateOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StateOptions>, StateOptionsValidator>();

        services.AddSingleton(sp => new LakeLayout(sp.GetRequiredService<IOptions<LakeOptions>>().Value.Prefix));
        services.AddSingleton<ILakeStore>(sp => sp.GetRequiredService<IOptions<LakeOptions>>().Value.Kind switch
        {
            LakeKind.S3 => ActivatorUtilities.CreateInstance<S3LakeStore>(sp),
            _ => ActivatorUtilities.CreateInstance<LocalLakeStore>(sp),
        });
        services.AddGrainStorage(SaikiNames.Storage, (sp, _) =>
            new FileGrainStorage(sp.GetRequiredService<IOptions<StateOptions>>().Value.Directory, sp.GetRequiredService<Serializer>()));

        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(SaikiNames.StreamProvider);
        services.AddHostedService<SourceSupervisor>();
        return silo;
    }
}

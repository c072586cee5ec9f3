using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Processes;
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
        services.AddOptions<ClusterStateOptions>().Bind(configuration.GetSection(ClusterStateOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterStateOptions>, ClusterStateOptionsValidator>();
        var cluster = configuration.GetSection(ClusterStateOptions.Section).Get<ClusterStateOptions>() ?? new ClusterStateOptions();
        if (cluster.Kind == ClusterStateKind.AdoNet)
        {
            services.AddClusterSchemaApplier();
            silo.AddAdoNetGrainStorage(SaikiNames.Storage, o =>
            {
                o.Invariant = ClusterStateOptions.Invariant;
                o.ConnectionString = cluster.ConnectionString;
            });
            // Grain state is written with the Orleans serializer, as in the embedded file storage.
            services.AddOptions<AdoNetGrainStorageOptions>(SaikiNames.Storage)
                .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = ClusterStateOptions.Invariant;
                o.ConnectionString = cluster.ConnectionString;
            });
        }
        else
        {
            services.AddGrainStorage(SaikiNames.Storage, (sp, _) =>
                new FileGrainStorage(sp.GetRequiredService<IOptions<StateOptions>>().Value.Directory, sp.GetRequiredService<Serializer>()));
            silo.UseInMemoryReminderService();
        }

        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(SaikiNames.StreamProvider);
        if (cluster.Rebalance)
        {
#pragma warning disable ORLEANSEXP002 // Activation rebalancing is marked experimental in Orleans 10.
            silo.AddActivationRebalancer();
#pragma warning restore ORLEANSEXP002
            services.Configure<ActivationRebalancerOptions>(o =>
            {
                o.RebalancerDueTime = cluster.RebalanceDueTime;
                o.SessionCyclePeriod = cluster.RebalanceCyclePeriod;
            });
        }
        services.AddHostedService<SourceSupervisor>();
        services.AddSingleton<ProcessCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<ProcessCatalog>());
        services.AddSingleton<SourceWatermarks>();
        services.AddSingleton<BreachSink>();
        // Supervision runs on a reminder as often as configured (tests use seconds; Orleans' floor is a minute).
        services.AddOptions<ReminderOptions>().Configure<IOptions<PipelineOptions>>((o, pipeline) =>
            o.MinimumReminderPeriod = TimeSpan.FromTicks(Math.Min(o.MinimumReminderPeriod.Ticks, pipeline.Value.SupervisionInterval.Ticks)));
        return silo;
    }
}

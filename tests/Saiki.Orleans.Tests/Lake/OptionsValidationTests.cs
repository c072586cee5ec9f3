using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Lake;

/// <summary>Bad settings stop the silo with a message naming the setting.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Saiki:Lake:Kind", "S3", "Saiki:Lake:S3:Bucket is required when Saiki:Lake:Kind is S3")]
    [InlineData("Saiki:Lake:Prefix", "/lake", "Saiki:Lake:Prefix '/lake' must not start or end with '/'")]
    [InlineData("Saiki:Pipeline:FlushInterval", "00:00:00.001", "Saiki:Pipeline:FlushInterval is 00:00:00.0010000; it must be between 00:00:00.05 and 01:00:00")]
    [InlineData("Saiki:Pipeline:MaxBufferedChanges", "0", "Saiki:Pipeline:MaxBufferedChanges is 0; it must be at least 1")]
    [InlineData("Saiki:Pipeline:ResyncAfter", "00:00:00.5", "Saiki:Pipeline:ResyncAfter (00:00:00.5000000) must be longer than FlushInterval (00:00:01)")]
    [InlineData("Saiki:State:Directory", " ", "Saiki:State:Directory is required")]
    [InlineData("Saiki:Lake:Format", "Orc", "Saiki:Lake:Format is 'Orc'; it must be JsonLines or Parquet or Iceberg")]
    [InlineData("Saiki:Lake:TableFormats:public.orders", "parket", "Saiki:Lake:TableFormats:public.orders is 'parket'; it must be JsonLines or Parquet or Iceberg")]
    [InlineData("Saiki:Lake:TableFormats:orders", "Parquet", "Saiki:Lake:TableFormats:orders does not name a table as schema.table")]
    [InlineData("Saiki:Pipeline:TargetFileBytes", "100", "Saiki:Pipeline:TargetFileBytes is 100; it must be at least 1024")]
    public void BadSetting_FailsNamingIt(string key, string value, string message)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        new TestSiloBuilder(services, configuration).AddSaikiPipeline(configuration);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<LakeOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<PipelineOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<StateOptions>>().Value;
        });
        Assert.Contains(message, error.Failures);
    }

    [Fact]
    public void S3KeysMustComeInPairs()
    {
        var result = new LakeOptionsValidatorProbe().Validate(new LakeOptions { Kind = LakeKind.S3, S3 = { Bucket = "b", AccessKey = "k" } });
        Assert.Contains("Saiki:Lake:S3:AccessKey and Saiki:Lake:S3:SecretKey must be set together", result);
    }

    [Fact]
    public void MultipartSizes_RespectS3Limits()
    {
        var result = new LakeOptionsValidatorProbe().Validate(new LakeOptions
        {
            Kind = LakeKind.S3, S3 = { Bucket = "b", PartSizeBytes = 1 << 20, MultipartThresholdBytes = 1 << 20 },
        }).ToArray();
        Assert.Contains("Saiki:Lake:S3:PartSizeBytes is 1048576; it must be between 5242880 (5 MiB) and 5368709120 (5 GiB)", result);
        Assert.Contains("Saiki:Lake:S3:MultipartThresholdBytes is 1048576; it must be at least 5242880 (5 MiB)", result);
    }

    [Fact]
    public void TableFormats_OverrideTheDefaultFormat_CaseInsensitively()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Saiki:Lake:Format"] = "parquet",
            ["Saiki:Lake:TableFormats:public.orders"] = "JsonLines",
        }).Build();
        var options = configuration.GetSection(LakeOptions.Section).Get<LakeOptions>()!;
        Assert.Empty(new LakeOptionsValidatorProbe().Validate(options));
        Assert.Equal(LakeFormat.JsonLines, options.FormatOf("public.orders"));
        Assert.Equal(LakeFormat.Parquet, options.FormatOf("public.items"));
        Assert.Equal(LakeFormat.Iceberg, new LakeOptions().FormatOf("public.items"));
    }

    private sealed class LakeOptionsValidatorProbe
    {
        public IEnumerable<string> Validate(LakeOptions options)
        {
            var services = new ServiceCollection();
            var configuration = new ConfigurationBuilder().Build();
            new TestSiloBuilder(services, configuration).AddSaikiPipeline(configuration);
            using var provider = services.BuildServiceProvider();
            return provider.GetServices<IValidateOptions<LakeOptions>>().SelectMany(v => v.Validate(null, options).Failures ?? []);
        }
    }

    private sealed class TestSiloBuilder(IServiceCollection services, IConfiguration configuration) : ISiloBuilder
    {
        public IServiceCollection Services => services;
        public IConfiguration Configuration => configuration;
    }
}

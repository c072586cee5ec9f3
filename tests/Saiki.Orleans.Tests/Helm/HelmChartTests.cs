using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Helm;

/// <summary>
/// The Helm chart renders and validates offline (helm itself cannot be installed here): scripts/helm-check.sh
/// lints, checks the values schema, renders every ci/ values file, validates the manifests against Kubernetes'
/// schemas and cross-object rules, and requires every deliberately broken input to be rejected.
/// </summary>
public sealed class HelmChartTests
{
    [Fact]
    public async Task ChartRendersAndValidates_AndBrokenInputsAreRejected()
    {
        var (exitCode, all) = await TestEnvironment.RunAsync("bash", Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "helm-check.sh"));
        Assert.True(exitCode == 0, all);
        Assert.Contains("helm-check: ci/default-values.yaml:", all);
        Assert.Contains("helm-check: ci/production-values.yaml:", all);
        Assert.Matches(@"negative manifest cases: (\d+)/\1 rejected as expected", all);
        Assert.EndsWith("helm-check: ok", all.Trim());
    }
}

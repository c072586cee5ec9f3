using System.Diagnostics;

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
        var root = RepositoryRoot();
        using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "helm-check.sh")])
        {
            WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var all = await output + await error;
        Assert.True(process.ExitCode == 0, all);
        Assert.Contains("helm-check: ci/default-values.yaml:", all);
        Assert.Contains("helm-check: ci/production-values.yaml:", all);
        Assert.Matches(@"negative manifest cases: (\d+)/\1 rejected as expected", all);
        Assert.EndsWith("helm-check: ok", all.Trim());
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Saiki.Orleans.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (with Saiki.Orleans.sln) is not above " + AppContext.BaseDirectory);
    }
}

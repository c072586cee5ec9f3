using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>
/// A registration was refused. <see cref="Exception.Message"/> names each problem and what to do about it;
/// nothing was created on the source database.
/// </summary>
[GenerateSerializer, Alias("saiki.source-validation-exception")]
public sealed class SourceValidationException : Exception
{
    /// <summary>Creates the exception from the list of problems found.</summary>
    public SourceValidationException(IReadOnlyList<string> problems)
        : base(string.Join("; ", problems))
    {
        Problems = problems.ToArray();
    }

    /// <summary>Creates the exception for one problem.</summary>
    public SourceValidationException(string problem) : this([problem])
    {
    }

    /// <summary>Each problem found, one sentence each.</summary>
    [Id(0)]
    public string[] Problems { get; private set; }
}

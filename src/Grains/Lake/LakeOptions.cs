using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Lake;

/// <summary>Where lake files go: a local directory (embedded default) or an S3 bucket. Section <c>Saiki:Lake</c>.</summary>
public sealed class LakeOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Lake";
    /// <summary>Default local lake directory, relative to the working directory.</summary>
    public const string DEFAULT_DIRECTORY = ".lake";

    /// <summary><c>Local</c> or <c>S3</c>.</summary>
    public LakeKind Kind { get; set; } = LakeKind.Local;
    /// <summary>Root directory of a local lake.</summary>
    public string Directory { get; set; } = DEFAULT_DIRECTORY;
    /// <summary>Key prefix inside the lake (no leading or trailing slash); empty for none.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>S3 settings, used when <see cref="Kind"/> is <c>S3</c>.</summary>
    public S3LakeOptions S3 { get; set; } = new();
}

/// <summary>Object store behind the lake.</summary>
public enum LakeKind
{
    /// <summary>A directory on the silo's file system.</summary>
    Local,
    /// <summary>An S3 bucket (AWS or an S3-compatible endpoint).</summary>
    S3,
}

/// <summary>S3 bucket and endpoint. Credentials come from here or from the AWS SDK's default chain.</summary>
public sealed class S3LakeOptions
{
    /// <summary>Bucket name.</summary>
    public string Bucket { get; set; } = "";
    /// <summary>Endpoint URL for non-AWS stores (e.g. <c>https://127.0.0.1:9000</c>); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }
    /// <summary>Region (signing region for custom endpoints).</summary>
    public string Region { get; set; } = "us-east-1";
    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), needed by most S3-compatible stores.</summary>
    public bool ForcePathStyle { get; set; } = true;
    /// <summary>Access key id; empty to use the SDK's default credential chain.</summary>
    public string? AccessKey { get; set; }
    /// <summary>Secret access key; never logged.</summary>
    public string? SecretKey { get; set; }
    /// <summary>Create the bucket at start-up when it does not exist.</summary>
    public bool CreateBucket { get; set; }
}

internal sealed class LakeOptionsValidator : IValidateOptions<LakeOptions>
{
    public ValidateOptionsResult Validate(string? name, LakeOptions o)
    {
        var errors = new List<string>();
        if (o.Prefix.StartsWith('/') || o.Prefix.EndsWith('/'))
        {
            errors.Add($"{LakeOptions.Section}:Prefix '{o.Prefix}' must not start or end with '/'");
        }
        switch (o.Kind)
        {
            case LakeKind.Local when string.IsNullOrWhiteSpace(o.Directory):
                errors.Add($"{LakeOptions.Section}:Directory is required when {LakeOptions.Section}:Kind is Local");
                break;
            case LakeKind.S3:
                if (string.IsNullOrWhiteSpace(o.S3.Bucket))
                {
                    errors.Add($"{LakeOptions.Section}:S3:Bucket is required when {LakeOptions.Section}:Kind is S3");
                }
                if (!string.IsNullOrEmpty(o.S3.ServiceUrl) && !Uri.TryCreate(o.S3.ServiceUrl, UriKind.Absolute, out _))
                {
                    errors.Add($"{LakeOptions.Section}:S3:ServiceUrl '{o.S3.ServiceUrl}' is not an absolute URL");
                }
                if (string.IsNullOrEmpty(o.S3.AccessKey) != string.IsNullOrEmpty(o.S3.SecretKey))
                {
                    errors.Add($"{LakeOptions.Section}:S3:AccessKey and {LakeOptions.Section}:S3:SecretKey must be set together");
                }
                break;
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

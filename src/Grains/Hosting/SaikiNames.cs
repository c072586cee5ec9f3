namespace Saiki.Orleans.Hosting;

/// <summary>Names of the Orleans providers the pipeline uses.</summary>
public static class SaikiNames
{
    /// <summary>Stream provider carrying <see cref="Changes.ChangeBatch"/>es.</summary>
    public const string StreamProvider = "saiki";
    /// <summary>Grain storage for sources, partitions and the registry.</summary>
    public const string Storage = "saiki";
}

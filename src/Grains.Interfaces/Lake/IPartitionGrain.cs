using Orleans;

namespace Saiki.Orleans.Lake;

/// <summary>Cleanses and materializes one table partition (key: <see cref="Changes.PartitionAddress"/> text form).</summary>
[Alias("saiki.partition")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>Durable position, counters and buffer size.</summary>
    [Alias("get")]
    Task<PartitionInfo> GetAsync();

    /// <summary>Writes whatever is buffered now (used on shutdown and by tests that must not wait for the timer).</summary>
    [Alias("flush")]
    Task FlushAsync();
}

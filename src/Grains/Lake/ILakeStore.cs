namespace Saiki.Orleans.Lake;

/// <summary>
/// The object store under the lake. Keys use '/' separators. Writes are whole-object and atomic:
/// a reader sees the old object, the new one, or none, never a part.
/// </summary>
public interface ILakeStore
{
    /// <summary>Writes (or overwrites) an object.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Reads an object, or null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Keys under a prefix in ordinal order, optionally only those after <paramref name="startAfter"/>.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; no error when it does not exist.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// The absolute URI of a key as readers outside Saiki name it (<c>s3://bucket/key</c>, <c>file:///path</c>): what
    /// Iceberg metadata records as a file's path.
    /// </summary>
    string Location(string key);

    /// <summary>The key of a <see cref="Location"/> of this store; throws for a location elsewhere.</summary>
    string KeyOf(string location);
}

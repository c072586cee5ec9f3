using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Lake;

/// <summary>A lake in a local directory: the embedded default. Writes go to a temporary file renamed into place.</summary>
public sealed class LocalLakeStore : ILakeStore
{
    private readonly string _root;

    /// <summary>Uses <see cref="LakeOptions.Directory"/>.</summary>
    public LocalLakeStore(IOptions<LakeOptions> options) : this(options.Value.Directory)
    {
    }

    /// <summary>Uses the given root directory.</summary>
    public LocalLakeStore(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await file.WriteAsync(content, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, string? startAfter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        // The prefix may end inside a file name, so enumerate from its directory part and filter.
        var slash = prefix.LastIndexOf('/');
        var dir = slash < 0 ? _root : PathOf(prefix[..slash]);
        if (!Directory.Exists(dir))
        {
            yield break;
        }
        var keys = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || string.CompareOrdinal(k, startAfter) > 0))
            .Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return key;
        }
    }

    /// <inheritdoc />
    public string Location(string key) => new Uri(PathOf(key)).AbsoluteUri;

    /// <inheritdoc />
    public string KeyOf(string location)
    {
        var path = Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.IsFile ? Path.GetFullPath(uri.LocalPath) : null;
        var root = _root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar;
        return path is not null && path.StartsWith(root, StringComparison.Ordinal)
            ? path[root.Length..].Replace(Path.DirectorySeparatorChar, '/')
            : throw new ArgumentException($"{location} is not in this lake ({new Uri(root).AbsoluteUri})", nameof(location));
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        if (key.Length == 0 || key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/'))
        {
            throw new ArgumentException($"lake key '{key}' is not a relative key", nameof(key));
        }
        return Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
    }
}

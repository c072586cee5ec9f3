using System.Security.Cryptography;
using System.Text;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Saiki.Orleans.Storage;

/// <summary>
/// Grain state as files in a local directory: the embedded default. State survives a silo restart with no
/// database to run; every silo on the machine that points at the same directory sees the same state (which the
/// in-process test cluster relies on). Writes go to a temporary file renamed into place, so a crash leaves either
/// the old or the new state. ETags are content hashes, so a stale activation cannot overwrite newer state.
/// </summary>
public sealed class FileGrainStorage(string directory, Serializer serializer) : IGrainStorage
{
    private readonly string _root = Path.GetFullPath(directory);

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = serializer.Deserialize<T>(bytes);
        grainState.ETag = ETagOf(bytes);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        CheckETag(path, grainState.ETag, grainId);
        var bytes = serializer.SerializeToArray(grainState.State);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temp, bytes);
        File.Move(temp, path, overwrite: true);
        grainState.ETag = ETagOf(bytes);
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        CheckETag(path, grainState.ETag, grainId);
        if (File.Exists(path))
        {
            File.Delete(path); // its directory may never have been created
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    private static void CheckETag(string path, string? expected, GrainId grainId)
    {
        string? current = null;
        if (File.Exists(path))
        {
            current = ETagOf(File.ReadAllBytes(path));
        }
        if (current != expected)
        {
            throw new InconsistentStateException($"state of {grainId} changed since it was read (file {path})", current ?? "none", expected ?? "none");
        }
    }

    private static string ETagOf(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes), 0, 12);

    private string PathOf(string stateName, GrainId grainId)
    {
        var id = grainId.ToString();
        var safe = new StringBuilder(id.Length);
        foreach (var c in id)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        // The readable part may collide after escaping; the hash keeps names unique.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)), 0, 6);
        return Path.Combine(_root, stateName, $"{safe}.{hash}.state");
    }
}

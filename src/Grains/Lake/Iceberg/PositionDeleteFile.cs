using System.IO.Compression;
using Parquet;
using Parquet.Schema;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>A position-delete file of the mirror table: one row per dead row (data file path, row position), sorted as the spec asks.</summary>
public static class PositionDeleteFile
{
    /// <summary>Encodes <paramref name="deletes"/> (sorted by path, then row) as Parquet (zstd).</summary>
    public static async Task<byte[]> WriteAsync(IReadOnlyList<(string Path, long Row)> deletes)
    {
        var path = new DataField<string>(IcebergPositionDeletes.FilePathColumn, false) { FieldId = IcebergPositionDeletes.FilePathFieldId };
        var pos = new DataField<long>(IcebergPositionDeletes.PosColumn) { FieldId = IcebergPositionDeletes.PosFieldId };
        using var buffer = new MemoryStream();
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = CompressionLevel.Optimal };
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(path, pos), buffer, options))
        {
            writer.CustomMetadata = new Dictionary<string, string> { ["iceberg.schema"] = IcebergPositionDeletes.Schema.ToJson() };
            for (var start = 0; start < deletes.Count; start += ChangelogFile.RowGroupRows)
            {
                var group = deletes.Skip(start).Take(ChangelogFile.RowGroupRows).ToArray();
                using var rows = writer.CreateRowGroup();
                await rows.WriteAsync(path, group.Select(d => (string?)d.Path).ToArray());
                await rows.WriteAsync<long>(pos, group.Select(d => d.Row).ToArray().AsMemory());
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The rows of a position-delete file (to rewrite delete files into one).</summary>
    public static async Task<List<(string Path, long Row)>> ReadAsync(byte[] content)
    {
        using var stream = new MemoryStream(content);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var path = reader.Schema.DataFields.First(f => f.Name == IcebergPositionDeletes.FilePathColumn);
        var pos = reader.Schema.DataFields.First(f => f.Name == IcebergPositionDeletes.PosColumn);
        var rows = new List<(string, long)>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var count = checked((int)group.RowCount);
            var paths = new string?[count];
            var positions = new long[count];
            await group.ReadAsync(path, paths.AsMemory(), null);
            await group.ReadAsync<long>(pos, positions.AsMemory(), null);
            for (var i = 0; i < count; i++)
            {
                rows.Add((paths[i]!, positions[i]));
            }
        }
        return rows;
    }
}

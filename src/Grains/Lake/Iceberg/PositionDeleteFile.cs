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
}

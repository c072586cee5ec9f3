using System.Security.Cryptography;
using System.Text;
using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>
/// Columns of a captured table as the source described them. <see cref="Version"/> identifies the column set
/// (names, types, key): every schema change gives a new version, and a lake file holds one version only.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.table-schema")]
public sealed record TableSchema(
    [property: Id(0)] string Table,
    [property: Id(1)] IReadOnlyList<ColumnSchema> Columns,
    [property: Id(2)] IReadOnlyList<int> KeyColumns)
{
    /// <summary>Stable id of this column set: 12 hex digits of a SHA-256 over table, columns, types and key.</summary>
    [Id(3)]
    public string Version { get; init; } = VersionOf(Table, Columns, KeyColumns);

    private static string VersionOf(string table, IReadOnlyList<ColumnSchema> columns, IReadOnlyList<int> key)
    {
        var text = $"{table}|{string.Join(",", columns.Select(c => $"{c.Name}:{c.Type}"))}|{string.Join(",", key)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 6);
    }

    /// <summary>The key values of a row image, in key-column order.</summary>
    public string?[] KeyOf(string?[] row)
    {
        var key = new string?[KeyColumns.Count];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = row[KeyColumns[i]];
        }
        return key;
    }
}

/// <summary>One column: its name and the source's type name.</summary>
[GenerateSerializer, Immutable, Alias("saiki.column-schema")]
public sealed record ColumnSchema(
    [property: Id(0)] string Name,
    [property: Id(1)] string Type);

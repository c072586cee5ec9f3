using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>Columns of a captured table as the source described them.</summary>
[GenerateSerializer, Immutable, Alias("saiki.table-schema")]
public sealed record TableSchema(
    [property: Id(0)] string Table,
    [property: Id(1)] IReadOnlyList<ColumnSchema> Columns,
    [property: Id(2)] IReadOnlyList<int> KeyColumns)
{
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

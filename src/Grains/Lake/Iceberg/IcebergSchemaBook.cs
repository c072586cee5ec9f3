using System.Text.Json;
using Orleans;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake.Iceberg;

/// <summary>
/// The field ids of one lake table, across its schema versions: every source column gets an Iceberg field id the
/// first time it is seen and keeps it (so every partition writes it under the same id, and a reader maps old files by
/// id). Each source schema version becomes an Iceberg schema of its own (schema id); the table's current schema is
/// that of the newest version, ordered by the position of its first change, so a partition still writing an older
/// version never undoes a newer one. Schema evolution, as Iceberg allows it:
/// <list type="bullet">
/// <item>an added column gets a new field id;</item>
/// <item>a dropped column is absent from newer schemas; older files keep it under its id;</item>
/// <item>a type change Iceberg can promote (int → long, float → double, a wider decimal of the same scale) keeps the id
/// and widens its type;</item>
/// <item>any other type change makes the column a new field (new id, same name) and raises an alert naming it: values
/// of the old type stay under the old id in older files and are never read as the new type.</item>
/// </list>
/// </summary>
[GenerateSerializer]
public sealed class IcebergSchemaBook
{
    /// <summary>Every field ever given an id: id, name, (widest) type.</summary>
    [Id(0)] public List<BookField> Fields { get; set; } = [];
    /// <summary>Each source schema version's Iceberg schema.</summary>
    [Id(1)] public Dictionary<string, BookVersion> Versions { get; set; } = [];
    /// <summary>The highest field id given.</summary>
    [Id(2)] public int LastColumnId { get; set; } = ChangelogFile.FirstTableFieldId - 1;
    /// <summary>The source schema version of the current Iceberg schema (the newest by position); null before any.</summary>
    [Id(3)] public string? Current { get; set; }

    /// <summary>
    /// The field ids and types of <paramref name="schema"/>, giving new ids where needed; <paramref name="alerts"/> gets
    /// a line for each column whose type changed in a way Iceberg cannot promote.
    /// </summary>
    public IcebergColumns For(TableSchema schema, Position firstSeen, List<string> alerts)
    {
        if (!Versions.TryGetValue(schema.Version, out var version))
        {
            var ids = new int[schema.Columns.Count];
            var types = new string[schema.Columns.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                var column = schema.Columns[i];
                var type = IcebergTypes.Of(column.Type);
                var field = Fields.LastOrDefault(f => f.Name == column.Name && (IcebergTypes.Promotes(type, f.Type) || IcebergTypes.Promotes(f.Type, type)));
                if (field is null)
                {
                    if (Fields.LastOrDefault(f => f.Name == column.Name) is { } other)
                    {
                        alerts.Add($"table {schema.Table}: column {column.Name} changed type from {other.Type} to {type}, which Iceberg cannot promote; " +
                                   $"it is a new column (field id {LastColumnId + 1}) and earlier values stay under field id {other.Id} in older files");
                    }
                    field = new BookField(++LastColumnId, column.Name, type);
                    Fields.Add(field);
                }
                else if (field.Type != type && IcebergTypes.Promotes(field.Type, type))
                {
                    Fields[Fields.IndexOf(field)] = field = field with { Type = type };
                }
                ids[i] = field.Id;
                types[i] = type;
            }
            version = new BookVersion(Versions.Count, firstSeen, schema.Columns.Select(c => ChangelogFile.ColumnName(c.Name)).ToArray(), ids, types);
        }
        else if (firstSeen < version.FirstSeen)
        {
            version = version with { FirstSeen = firstSeen };
        }
        Versions[schema.Version] = version;
        Current = Versions.MaxBy(v => v.Value.FirstSeen).Key;
        return new IcebergColumns(schema.Version, version.SchemaId, version.FieldIds, version.Types, SchemaJson(version));
    }

    /// <summary>The Iceberg schema (fields with ids and types) of a version: the changelog's own columns, then the table's.</summary>
    public static IReadOnlyList<(int Id, string Name, string Type, bool Required)> FieldsOf(BookVersion version) =>
    [
        .. ChangelogFile.Metadata,
        .. version.Names.Select((name, i) => (version.FieldIds[i], name, version.Types[i], false)),
    ];

    /// <summary>The Iceberg schema JSON of a version.</summary>
    public static string SchemaJson(BookVersion version)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "struct");
            json.WriteNumber("schema-id", version.SchemaId);
            json.WriteStartArray("fields");
            foreach (var (id, name, type, required) in FieldsOf(version))
            {
                json.WriteStartObject();
                json.WriteNumber("id", id);
                json.WriteString("name", name);
                json.WriteBoolean("required", required);
                json.WriteString("type", type);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>A field of a lake table: its id, name and type.</summary>
[GenerateSerializer, Immutable]
public sealed record BookField([property: Id(0)] int Id, [property: Id(1)] string Name, [property: Id(2)] string Type);

/// <summary>One source schema version as an Iceberg schema: its schema id, earliest position, and each table column's name (as written), field id and type.</summary>
[GenerateSerializer, Immutable]
public sealed record BookVersion(
    [property: Id(0)] int SchemaId,
    [property: Id(1)] Position FirstSeen,
    [property: Id(2)] IReadOnlyList<string> Names,
    [property: Id(3)] IReadOnlyList<int> FieldIds,
    [property: Id(4)] IReadOnlyList<string> Types);

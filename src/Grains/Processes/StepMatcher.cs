using System.Globalization;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Processes;

/// <summary>A step's key column and predicates resolved against one schema version of its table.</summary>
internal sealed class StepMatcher
{
    private readonly int _key;
    private readonly (int Column, FieldPredicate Predicate)[] _where;

    private StepMatcher(int key, (int, FieldPredicate)[] where)
    {
        _key = key;
        _where = where;
    }

    /// <summary>Null when the schema lacks a column the step names (its rows cannot match).</summary>
    public static StepMatcher? Create(ProcessStep step, TableSchema schema)
    {
        int Index(string name)
        {
            for (var i = 0; i < schema.Columns.Count; i++)
            {
                if (schema.Columns[i].Name == name)
                {
                    return i;
                }
            }
            return -1;
        }
        var key = Index(step.Key);
        var where = (step.Where ?? []).Select(p => (Index(p.Field), p)).ToArray();
        return key < 0 || where.Any(w => w.Item1 < 0) ? null : new StepMatcher(key, where);
    }

    /// <summary>The business key when the row matches every predicate; null otherwise.</summary>
    public string? KeyOf(string?[]? row)
    {
        if (row is null || row[_key] is not { } key)
        {
            return null;
        }
        foreach (var (column, p) in _where)
        {
            if (!Holds(p, row[column]))
            {
                return null;
            }
        }
        return key;
    }

    private static bool Holds(FieldPredicate p, string? value) => p.Op switch
    {
        "eq" => value == p.Value,
        "ne" => value != p.Value,
        "in" => value is not null && p.Values!.Contains(value),
        "null" => value is null,
        "notnull" => value is not null,
        "gt" => Number(value) is { } v && v > Number(p.Value)!.Value,
        "lt" => Number(value) is { } v && v < Number(p.Value)!.Value,
        _ => false,
    };

    private static decimal? Number(string? text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}

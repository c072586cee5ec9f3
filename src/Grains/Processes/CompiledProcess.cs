using System.Globalization;
using System.Text.RegularExpressions;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Processes;

/// <summary>
/// A validated process definition in the form the engine and the router use: steps by index, deadlines as
/// (reference step, ticks), which steps complete an instance, and row predicates.
/// </summary>
public sealed partial class CompiledProcess
{
    /// <summary>Most steps a process may have.</summary>
    public const int MAX_STEPS = 32;

    private CompiledProcess(ProcessDefinition definition)
    {
        Definition = definition;
        var steps = definition.Steps;
        var names = steps.Select((s, i) => (s.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        DeadlineAfter = steps.Select(s => s.Deadline is { } d ? names[d.After] : -1).ToArray();
        DeadlineTicks = steps.Select(s => s.Deadline?.Within.Ticks ?? 0).ToArray();
        var anyTerminal = steps.Any(s => s.Terminal);
        Terminal = steps.Select((s, i) => anyTerminal ? s.Terminal : i == steps.Count - 1).ToArray();
        Armed = Enumerable.Range(0, steps.Count).Select(i => Enumerable.Range(0, steps.Count).Where(j => DeadlineAfter[j] == i).ToArray()).ToArray();
        Operations = steps.Select(s => (s.Operations is { Count: > 0 } ops ? ops : ["insert"]).Select(ParseOperation).Select(o => o!.Value).ToHashSet()).ToArray();
    }

    /// <summary>The definition as registered.</summary>
    public ProcessDefinition Definition { get; }
    /// <summary>Process name.</summary>
    public string Name => Definition.Name;
    /// <summary>Number of steps.</summary>
    public int StepCount => Definition.Steps.Count;
    /// <summary>Per step: index of the step its deadline counts from, or -1.</summary>
    public int[] DeadlineAfter { get; }
    /// <summary>Per step: deadline length in ticks (0 without a deadline).</summary>
    public long[] DeadlineTicks { get; }
    /// <summary>Per step: reaching it completes the instance.</summary>
    public bool[] Terminal { get; }
    /// <summary>Per step: the steps whose deadline starts when it is reached.</summary>
    public int[][] Armed { get; }
    /// <summary>Per step: operations it matches.</summary>
    public HashSet<ChangeOperation>[] Operations { get; }

    /// <summary>Longest deadline a step may have (event times plus it must stay far from the end of time).</summary>
    public static readonly TimeSpan MaxWithin = TimeSpan.FromDays(366);

    /// <summary>Validates a definition; throws <see cref="ProcessValidationException"/> naming every problem.</summary>

    public static CompiledProcess Compile(ProcessDefinition? definition)
    {
        var problems = new List<string>();
        if (definition is null)
        {
            throw new ProcessValidationException(["the process definition is empty"]);
        }
        if (SaikiIds.Problem(IdKind.Process, definition.Name) is { } nameProblem)
        {
            problems.Add(nameProblem);
        }
        if (definition.Partitions is < 1 or > 256)
        {
            problems.Add($"partitions is {definition.Partitions}; it must be between 1 and 256");
        }
        if (definition.Webhook is { } hook && !(Uri.TryCreate(hook, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            problems.Add($"webhook '{hook}' is not an http(s) URL");
        }
        var steps = definition.Steps ?? [];
        if (steps.Count == 0)
        {
            problems.Add("steps: at least one step is required");
        }
        if (steps.Count > MAX_STEPS)
        {
            problems.Add($"steps: {steps.Count} steps; at most {MAX_STEPS}");
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            var at = $"steps[{i}]" + (string.IsNullOrEmpty(s?.Name) ? "" : $" ({s.Name})");
            if (s is null)
            {
                problems.Add($"{at}: empty step");
                continue;
            }
            if (string.IsNullOrWhiteSpace(s.Name))
            {
                problems.Add($"{at}: name is required");
            }
            else if (!seen.TryAdd(s.Name, i))
            {
                problems.Add($"{at}: name '{s.Name}' is used by steps[{seen[s.Name]}] too");
            }
            if (string.IsNullOrWhiteSpace(s.Source))
            {
                problems.Add($"{at}: source is required");
            }
            if (string.IsNullOrWhiteSpace(s.Table) || s.Table.Split('.').Length != 2 || s.Table.Split('.').Any(string.IsNullOrWhiteSpace))
            {
                problems.Add($"{at}: table '{s.Table}' must be schema.table");
            }
            if (string.IsNullOrWhiteSpace(s.Key))
            {
                problems.Add($"{at}: key (the column holding the business key) is required");
            }
            foreach (var op in s.Operations ?? [])
            {
                if (ParseOperation(op) is null)
                {
                    problems.Add($"{at}: operation '{op}' is not insert, update or delete");
                }
            }
            for (var p = 0; p < (s.Where?.Count ?? 0); p++)
            {
                problems.AddRange(PredicateProblems(s.Where![p]).Select(x => $"{at}: where[{p}]: {x}"));
            }
            if (s.Deadline is { } d)
            {
                if (i == 0)
                {
                    problems.Add($"{at}: the first step starts an instance and cannot have a deadline");
                }
                else if (!seen.TryGetValue(d.After ?? "", out var after) || after >= i)
                {
                    problems.Add($"{at}: deadline.after '{d.After}' is not an earlier step");
                }
                if (d.Within <= TimeSpan.Zero || d.Within > MaxWithin)
                {
                    problems.Add($"{at}: deadline.within is {d.Within}; it must be positive and at most {MaxWithin.TotalDays:0} days");
                }
                if (s.Optional)
                {
                    problems.Add($"{at}: an optional step cannot have a deadline");
                }
            }
            if (i == 0 && s.Optional)
            {
                problems.Add($"{at}: the first step starts an instance and cannot be optional");
            }
        }
        if (problems.Count > 0)
        {
            throw new ProcessValidationException(problems);
        }
        return new CompiledProcess(definition);
    }

    /// <summary>Process partition of a business key.</summary>
    public int PartitionOf(string key) => PartitionOf(key, Definition.Partitions);

    /// <summary>Process partition of a business key among <paramref name="partitions"/> (FNV-1a of its UTF-16 code units).</summary>
    public static int PartitionOf(string key, int partitions)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % (uint)partitions);
    }

    /// <summary>Grain key of a process partition.</summary>
    public static string PartitionKey(string process, int partition) => $"{process}|{partition}";

    private static IEnumerable<string> PredicateProblems(FieldPredicate? p)
    {
        if (p is null)
        {
            yield return "empty predicate";
            yield break;
        }
        if (string.IsNullOrWhiteSpace(p.Field))
        {
            yield return "field is required";
        }
        switch (p.Op)
        {
            case "eq" or "ne" when p.Value is null:
                yield return $"op '{p.Op}' needs a value";
                break;
            case "gt" or "lt" when !decimal.TryParse(p.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                yield return $"op '{p.Op}' needs a numeric value, not '{p.Value}'";
                break;
            case "in" when p.Values is not { Count: > 0 }:
                yield return "op 'in' needs values";
                break;
            case "eq" or "ne" or "gt" or "lt" or "in" or "null" or "notnull":
                break;
            default:
                yield return $"op '{p.Op}' is not one of eq, ne, in, gt, lt, null, notnull";
                break;
        }
    }

    internal static ChangeOperation? ParseOperation(string? op) => op?.ToLowerInvariant() switch
    {
        "insert" or "c" or "create" => ChangeOperation.Insert,
        "update" or "u" => ChangeOperation.Update,
        "delete" or "d" => ChangeOperation.Delete,
        _ => null,
    };

}

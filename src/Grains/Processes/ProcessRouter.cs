using System.Collections.Concurrent;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Processes;

/// <summary>
/// Routes cleansed changes to process partitions: a change matches a step by source, table, operation and
/// predicates (resolved once per schema version); its business key decides the process partition.
/// </summary>
public sealed class ProcessRouter(IEnumerable<CompiledProcess> processes)
{
    private readonly CompiledProcess[] _processes = processes.ToArray();
    private readonly ConcurrentDictionary<(string Process, int Step, string SchemaVersion), StepMatcher?> _matchers = new();

    /// <summary>The events of a flushed run that matched some step, grouped by process partition grain key.</summary>
    public Dictionary<string, List<ProcessEvent>> Route(PartitionAddress partition, IReadOnlyList<(TableSchema Schema, ChangeEvent Event)> changes)
    {
        var routed = new Dictionary<string, List<ProcessEvent>>(StringComparer.Ordinal);
        var steps = _processes.SelectMany(p => p.Definition.Steps.Select((s, i) => (Process: p, Step: i, Definition: s)))
            .Where(x => x.Definition.Source == partition.SourceId && x.Definition.Table == partition.Table).ToArray();
        if (steps.Length == 0)
        {
            return routed;
        }
        // Changes outer, steps inner: each partition's events stay in commit order.
        foreach (var (schema, change) in changes)
        {
            foreach (var (process, step, _) in steps)
            {
                if (!process.Operations[step].Contains(change.Operation)
                    || Matcher(process, step, schema) is not { } matcher
                    || matcher.KeyOf(change.Operation == ChangeOperation.Delete ? change.Before : change.After) is not { } key)
                {
                    continue;
                }
                var stream = CompiledProcess.PartitionKey(process.Name, process.PartitionOf(key));
                if (!routed.TryGetValue(stream, out var list))
                {
                    routed[stream] = list = [];
                }
                list.Add(new ProcessEvent(step, key, change.CommitTime.UtcTicks));
            }
        }
        return routed;
    }

    private StepMatcher? Matcher(CompiledProcess process, int step, TableSchema schema) =>
        _matchers.GetOrAdd((process.Name, step, schema.Version), _ => StepMatcher.Create(process.Definition.Steps[step], schema));
}

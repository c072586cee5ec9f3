using Orleans;

namespace Saiki.Orleans.Processes;

/// <summary>
/// A business process to watch, e.g. "order created → paid within 30 min → shipped within 48 h". The first step
/// starts an instance (one per business key); a terminal step (the last step unless some are marked) completes it;
/// a step with a deadline is breached when the source watermark passes <c>after</c>'s time + <c>within</c> without it.
/// </summary>
/// <param name="Name">Process name (letters, digits, <c>_</c> and <c>-</c>).</param>
/// <param name="Steps">Steps in order; the first starts an instance.</param>
/// <param name="Partitions">Process partitions (grains) open instances are spread over by hash of the business key.</param>
/// <param name="Webhook">Optional http(s) URL that receives each breach as JSON (POST).</param>
[GenerateSerializer, Immutable, Alias("saiki.process-definition")]
public sealed record ProcessDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<ProcessStep> Steps,
    [property: Id(2)] int Partitions = 4,
    [property: Id(3)] string? Webhook = null);

/// <summary>One step: which cleansed change events it matches and how the business key is read from them.</summary>
/// <param name="Name">Step name, unique in the process.</param>
/// <param name="Source">Source id the events come from.</param>
/// <param name="Table">Table as <c>schema.table</c>.</param>
/// <param name="Key">Column holding the business key (e.g. <c>id</c> in orders, <c>order_id</c> in payments).</param>
/// <param name="Operations">Operations that match: <c>insert</c>, <c>update</c>, <c>delete</c> (default: insert).</param>
/// <param name="Where">Field predicates that must all hold on the row (the new row; the old one for deletes).</param>
/// <param name="Deadline">This step is due within a time after an earlier step.</param>
/// <param name="Optional">Never breached, never needed to complete (e.g. "reminder sent").</param>
/// <param name="Terminal">Reaching it completes the instance (default: the last step is terminal).</param>
[GenerateSerializer, Immutable, Alias("saiki.process-step")]
public sealed record ProcessStep(
    [property: Id(0)] string Name,
    [property: Id(1)] string Source,
    [property: Id(2)] string Table,
    [property: Id(3)] string Key,
    [property: Id(4)] IReadOnlyList<string>? Operations = null,
    [property: Id(5)] IReadOnlyList<FieldPredicate>? Where = null,
    [property: Id(6)] StepDeadline? Deadline = null,
    [property: Id(7)] bool Optional = false,
    [property: Id(8)] bool Terminal = false);

/// <summary>A step is due <paramref name="Within"/> after step <paramref name="After"/> was reached.</summary>
[GenerateSerializer, Immutable, Alias("saiki.step-deadline")]
public sealed record StepDeadline([property: Id(0)] string After, [property: Id(1)] TimeSpan Within);

/// <summary>
/// A condition on a column: <c>eq</c>, <c>ne</c> (text), <c>in</c> (one of <paramref name="Values"/>), <c>gt</c>,
/// <c>lt</c> (numbers), <c>null</c>, <c>notnull</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.field-predicate")]
public sealed record FieldPredicate(
    [property: Id(0)] string Field,
    [property: Id(1)] string Op,
    [property: Id(2)] string? Value = null,
    [property: Id(3)] IReadOnlyList<string>? Values = null);

/// <summary>A process definition was refused; <see cref="Problems"/> names each problem. Nothing was registered.</summary>
[GenerateSerializer, Alias("saiki.process-validation-exception")]
public sealed class ProcessValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProcessValidationException(IReadOnlyList<string> problems)
        : base("the process definition was refused: " + string.Join("; ", problems)) => Problems = problems.ToArray();

    /// <summary>Each problem.</summary>
    [Id(0)]
    public string[] Problems { get; private set; }
}

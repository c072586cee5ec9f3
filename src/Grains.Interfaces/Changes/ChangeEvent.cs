using Orleans;

namespace Saiki.Orleans.Changes;

/// <summary>
/// One captured row change. Row images are arrays aligned with <see cref="TableSchema.Columns"/> of the batch
/// that carries the event; values are the source's text representation, <c>null</c> for SQL NULL.
/// <see cref="Unchanged"/> lists columns of <see cref="After"/> whose value the source did not send because the
/// change left them untouched (PostgreSQL's unchanged TOAST values): they keep their previous value.
/// <see cref="Spilled"/> is set on the stand-in of a change too large for the stream transport: the change itself
/// waits under that lake key (a claim check) and the partition reads it back.
/// </summary>
[GenerateSerializer, Immutable, Alias("saiki.change-event")]
public sealed record ChangeEvent(
    [property: Id(0)] ChangeOperation Operation,
    [property: Id(1)] Position Position,
    [property: Id(2)] DateTimeOffset CommitTime,
    [property: Id(3)] string?[]? Before,
    [property: Id(4)] string?[]? After,
    [property: Id(5)] IReadOnlyList<int>? Unchanged = null,
    [property: Id(6)] string? Spilled = null)
{
    /// <summary>The row image that identifies the row: the new row for inserts and updates, the old one for deletes.</summary>
    public string?[]? KeyImage => After ?? Before;
}

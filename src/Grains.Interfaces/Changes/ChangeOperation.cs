namespace Saiki.Orleans.Changes;

/// <summary>What a change did to a row. Written to lake files as <c>c</c>, <c>u</c>, <c>d</c>, <c>t</c> and <c>r</c>.</summary>
public enum ChangeOperation : byte
{
    /// <summary>A row was inserted.</summary>
    Insert = 0,
    /// <summary>A row was updated; <see cref="ChangeEvent.Before"/> holds the old row where the source logs it.</summary>
    Update = 1,
    /// <summary>A row was deleted; <see cref="ChangeEvent.Before"/> holds its key (or the whole row).</summary>
    Delete = 2,
    /// <summary>The whole table was truncated; every partition of the table receives this event.</summary>
    Truncate = 3,
    /// <summary>A row as the initial snapshot read it (Debezium's <c>r</c>); it precedes every streamed change of the row.</summary>
    Snapshot = 4,
}

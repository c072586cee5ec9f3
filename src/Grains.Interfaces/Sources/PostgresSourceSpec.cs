using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>A service team's request to capture tables of one PostgreSQL database.</summary>
/// <param name="Id">Source id: lower-case letters, digits and underscores, 1 to 40 characters, starting with a letter.
/// It names the replication slot (<c>saiki_{id}</c>) and publication, and the lake folders.</param>
/// <param name="ConnectionString">Npgsql connection string of a role with the REPLICATION attribute (or superuser).</param>
/// <param name="Tables">Tables to capture, as <c>schema.table</c> (or <c>table</c> for <c>public</c>); <c>schema.*</c>
/// takes every table of a schema that exists at registration.</param>
/// <param name="Partitions">Stream partitions per table (hash of the primary key); 1 to 256.</param>
/// <param name="Snapshot">Whether the rows already in the tables are read first (a consistent parallel snapshot).</param>
/// <param name="ExcludeTables">Tables left out of a <c>schema.*</c> pattern.</param>
/// <param name="Columns">Per-column privacy rules: leave a column out, or replace its values by a keyed hash.</param>
[GenerateSerializer, Immutable, Alias("saiki.postgres-source-spec")]
public sealed record PostgresSourceSpec(
    [property: Id(0)] string Id,
    [property: Id(1)] string ConnectionString,
    [property: Id(2)] IReadOnlyList<string> Tables,
    [property: Id(3)] int Partitions = 4,
    [property: Id(4)] SnapshotMode Snapshot = SnapshotMode.Initial,
    [property: Id(5)] IReadOnlyList<string>? ExcludeTables = null,
    [property: Id(6)] IReadOnlyList<ColumnRule>? Columns = null)
{
    /// <summary>Names everything but the connection string, which may hold a password (records print every property).</summary>
    public override string ToString() =>
        $"PostgresSourceSpec {{ Id = {Id}, ConnectionString = (redacted), Tables = [{string.Join(", ", Tables ?? [])}], Partitions = {Partitions}, Snapshot = {Snapshot} }}";
}

/// <summary>What happens to one column of one captured table before it leaves the source.</summary>
/// <param name="Table">Table (<c>schema.table</c>).</param>
/// <param name="Column">Column name.</param>
/// <param name="Action">Exclude it, or hash it.</param>
[GenerateSerializer, Immutable, Alias("saiki.column-rule")]
public sealed record ColumnRule(
    [property: Id(0)] string Table,
    [property: Id(1)] string Column,
    [property: Id(2)] ColumnAction Action);

/// <summary>Privacy treatment of a column.</summary>
public enum ColumnAction
{
    /// <summary>The column never reaches the lake (not allowed for key columns).</summary>
    Exclude = 0,
    /// <summary>Values become HMAC-SHA256 hex digests keyed with <c>Saiki:Privacy:HashKey</c>: equal values stay
    /// equal (joins and counts still work) but cannot be read back.</summary>
    Hash = 1,
}

/// <summary>What a source does with rows that exist when it is registered.</summary>
public enum SnapshotMode
{
    /// <summary>Read them all, consistently with the change stream, before streaming starts.</summary>
    Initial = 0,
    /// <summary>Capture changes from registration on only.</summary>
    Never = 1,
}

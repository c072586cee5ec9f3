using Orleans;

namespace Saiki.Orleans.Sources;

/// <summary>A service team's request to capture tables of one PostgreSQL database.</summary>
/// <param name="Id">Source id: lower-case letters, digits and underscores, 1 to 40 characters, starting with a letter.
/// It names the replication slot (<c>saiki_{id}</c>) and publication, and the lake folders.</param>
/// <param name="ConnectionString">Npgsql connection string of a role with the REPLICATION attribute (or superuser).</param>
/// <param name="Tables">Tables to capture, as <c>schema.table</c> (or <c>table</c> for <c>public</c>).</param>
/// <param name="Partitions">Stream partitions per table (hash of the primary key); 1 to 256.</param>
/// <param name="Snapshot">Whether the rows already in the tables are read first (a consistent parallel snapshot).</param>
[GenerateSerializer, Immutable, Alias("saiki.postgres-source-spec")]
public sealed record PostgresSourceSpec(
    [property: Id(0)] string Id,
    [property: Id(1)] string ConnectionString,
    [property: Id(2)] IReadOnlyList<string> Tables,
    [property: Id(3)] int Partitions = 4,
    [property: Id(4)] SnapshotMode Snapshot = SnapshotMode.Initial);

/// <summary>What a source does with rows that exist when it is registered.</summary>
public enum SnapshotMode
{
    /// <summary>Read them all, consistently with the change stream, before streaming starts.</summary>
    Initial = 0,
    /// <summary>Capture changes from registration on only.</summary>
    Never = 1,
}

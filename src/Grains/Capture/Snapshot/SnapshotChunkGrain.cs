using System.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Placement;
using Saiki.Orleans.Capture.Postgres;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.EventBus;
using Saiki.Orleans.Hosting;
using Saiki.Orleans.Lake;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Snapshot;

/// <summary>
/// Reads one CTID range with <c>COPY … TO STDOUT</c> inside a transaction that imports the slot's exported
/// snapshot, and writes the rows as one lake file. Chunks are independent grains, so the placement spreads them
/// over the silos: each goes to the silo with the fewest activations, so silos that just joined take most of
/// them. When the export has ended (the source restarted mid-snapshot) the chunk reads a fresh
/// snapshot instead: its rows may then be newer than the consistent point, which the stream that follows from
/// the consistent point corrects, because every change after it is applied on top of the snapshot rows. The same
/// holds when the table was rewritten after the consistent point: an old snapshot would see it empty.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class SnapshotChunkGrain(
    ILakeStore store, LakeLayout layout, KafkaPublisher kafka, IOptions<PrivacyOptions> privacy, IOptions<LakeOptions> lake, ILogger<SnapshotChunkGrain> logger)
    : Grain, ISnapshotChunkGrain
{
    /// <inheritdoc />
    public async Task<long> ReadAsync(SnapshotChunkWork work)
    {
        var ct = CancellationToken.None;
        await using var conn = await PostgresSourceAdmin.OpenAsync(work.ConnectionString, ct);
        // Columns come from the current catalog, before the snapshot is imported: a query under the old snapshot
        // would still list a column dropped since, which COPY (planned against the current catalog) rejects.
        var source = await PostgresSourceAdmin.LoadTableSchemaAsync(conn, work.Table, ct);
        var projection = new ColumnPolicy(work.Columns, privacy.Value.HashKeyBytes).For(source);
        var schema = projection.Schema;
        var (_, fileNode) = await PostgresSourceAdmin.TableStorageAsync(conn, work.Table, ct);
        var importable = fileNode == work.FileNode;
        await using var tx = await BeginAsync(conn, importable ? work : work with { SnapshotName = null }, ct);
        var position = new Position(work.ConsistentPoint - 1, (uint)work.Chunk);
        var columns = string.Join(", ", source.Columns.Select(c => PostgresNames.Quote(c.Name)));
        var range = $"ctid >= '({work.FromPage},0)'::tid" + (work.ToPage is { } to ? $" AND ctid < '({to},0)'::tid" : "");
        using var file = await SnapshotFile.CreateAsync(store, layout, kafka, lake.Value.FormatOf(work.Table), work.SourceId, work.Table, schema, position, GrainFactory);
        // Read and encoded on the thread pool: each buffer refill would otherwise be a turn through the grain's
        // scheduler, which cost more than a tenth of a chunk's time. Nothing in the loop touches grain state.
        await Task.Run(async () =>
        {
            using var copy = await conn.BeginTextExportAsync($"COPY (SELECT {columns} FROM {PostgresNames.QuoteQualified(work.Table)} WHERE {range}) TO STDOUT", ct);
            while (await copy.ReadLineAsync(ct) is { } line)
            {
                await file.AddAsync(new ChangeEvent(ChangeOperation.Snapshot, position, work.SnapshotTime, null, projection.Row(CopyText.ParseRow(line, source.Columns.Count))));
            }
        }, ct);
        await tx.CommitAsync(ct);
        await file.CompleteAsync(work.Chunk, position, work.SnapshotTime, ct);
        this.DeactivateOnIdle();
        return file.Count;
    }

    private async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection conn, SnapshotChunkWork work, CancellationToken ct)
    {
        var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        if (work.SnapshotName is not { } name)
        {
            return tx;
        }
        try
        {
            await using var cmd = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{name.Replace("'", "''", StringComparison.Ordinal)}'", conn, tx);
            await cmd.ExecuteNonQueryAsync(ct);
            return tx;
        }
        catch (PostgresException e)
        {
            // The export ended (its connection closed); a fresh snapshot is still correct, see the class comment.
            SnapshotLog.ExportGone(logger, work.SourceId, work.Chunk, e.MessageText);
            await tx.DisposeAsync();
            return await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        }
    }
}

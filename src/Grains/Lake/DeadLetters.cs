using System.Text.Json;
using Saiki.Orleans.EventBus;

namespace Saiki.Orleans.Lake;

/// <summary>
/// Writes changes a sink refused for good to <c>{prefix}/_deadletter/{source}/{schema.table}/{position}.json</c>
/// with the reason and the refused message, and counts them; the partition then carries on.
/// </summary>
public static class DeadLetters
{
    /// <summary>Stores each dead letter (idempotently: the key is the change's position).</summary>
    public static async Task WriteAsync(ILakeStore store, LakeLayout layout, IReadOnlyList<DeadLetter> letters, CancellationToken ct = default)
    {
        foreach (var letter in letters)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                source = letter.Partition.SourceId,
                table = letter.Partition.Table,
                pos = letter.Position.ToKey(),
                reason = letter.Reason,
                key = System.Text.Encoding.UTF8.GetString(letter.Key),
                value = System.Text.Encoding.UTF8.GetString(letter.Value),
            });
            await store.PutAsync(layout.DeadLetterKey(letter.Partition.SourceId, letter.Partition.Table, letter.Position), body, ct);
            Diagnostics.SaikiMetrics.DeadLetters.Add(1);
        }
    }
}

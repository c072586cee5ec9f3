using Saiki.Orleans.Changes;
using Saiki.Orleans.Ingestion;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Security;

/// <summary>
/// Every kind of writer has a lake key space of its own: no id of one kind can produce a key inside another
/// kind's (or another id's) folder. A Kafka source named "_events" used to write exactly the keys of the REST event
/// type "events", both numbering from 1, so acknowledged events were overwritten.
/// </summary>
public sealed class KeySpaceTests
{
    /// <summary>Ids chosen to collide: reserved folder names, each kind's folder words, dots, case.</summary>
    private static readonly string[] Candidates =
    [
        "_events", "events", "_late", "late", "_kafka", "kafka", "_manifest", "manifest", "_schemas", "_spill", "_deadletter",
        "_completeness", "snapshot", "orders", "orders.events", "Orders", "a", "a.b", "a_b", "a-b", "public.t", "dt=2026-01-01",
    ];

    [Theory]
    [InlineData(IdKind.CaptureSource)]
    [InlineData(IdKind.KafkaSource)]
    [InlineData(IdKind.EventType)]
    [InlineData(IdKind.Process)]
    public void ReservedNames_AreRefusedForEveryKind_WithTheReason(IdKind kind)
    {
        foreach (var reserved in new[] { "_events", "_late", "_kafka", "_manifest", "_x" })
        {
            var problem = SaikiIds.Problem(kind, reserved);
            Assert.NotNull(problem);
            Assert.Contains("reserved for Saiki's own lake folders", problem);
        }
        foreach (var bad in new[] { "", "..", "a..b", ".a", "-a", "a/b", "a|b", "a b", new string('a', 65) })
        {
            Assert.NotNull(SaikiIds.Problem(kind, bad));
        }
    }

    [Fact]
    public void OneRuleForEveryKind_CaptureSourcesAlsoFitASlotName()
    {
        foreach (var kind in new[] { IdKind.KafkaSource, IdKind.EventType, IdKind.Process })
        {
            Assert.True(SaikiIds.IsValid(kind, "order.placed-v2_x"));
        }
        Assert.True(SaikiIds.IsValid(IdKind.CaptureSource, "orders_db"));
        Assert.Contains("names a replication slot", SaikiIds.Problem(IdKind.CaptureSource, "orders-db"));
        Assert.Contains("names a replication slot", SaikiIds.Problem(IdKind.CaptureSource, "Orders"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("lake")]
    public void NoTwoWritersShareAKeySpace_AcrossEveryPairOfIdKinds(string prefix)
    {
        var layout = new LakeLayout(prefix);
        var files = new EventFiles(null!, layout);
        var hour = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        // Every folder a writer of each kind writes its data under, for every valid id of that kind.
        var spaces = new List<(string Owner, string Prefix)>();
        foreach (var id in Candidates)
        {
            if (SaikiIds.IsValid(IdKind.CaptureSource, id))
            {
                // A DynamoDB table name has no schema: "events" is a possible table of a capture source.
                foreach (var table in new[] { "public.t", "events", "late" })
                {
                    spaces.Add(($"capture source {id}", layout.DataPrefix(new PartitionAddress(id, table, 0), hour)));
                    spaces.Add(($"capture source {id}", layout.SnapshotDataKey(id, table, 1, LakeFormat.JsonLines)));
                    spaces.Add(($"capture source {id}", layout.ManifestPrefix(new PartitionAddress(id, table, 0))));
                }
            }
            if (SaikiIds.IsValid(IdKind.KafkaSource, id))
            {
                spaces.Add(($"Kafka source {id}", files.SourcePrefix(id)));
                spaces.Add(($"Kafka source {id}", files.LatePrefix(id)));
            }
            if (SaikiIds.IsValid(IdKind.EventType, id))
            {
                spaces.Add(($"event type {id}", files.PostedPrefix(id)));
            }
        }
        Assert.Contains(spaces, s => s.Owner.StartsWith("capture source", StringComparison.Ordinal));
        Assert.Contains(spaces, s => s.Owner.StartsWith("Kafka source", StringComparison.Ordinal));
        Assert.Contains(spaces, s => s.Owner.StartsWith("event type", StringComparison.Ordinal));

        foreach (var a in spaces)
        {
            foreach (var b in spaces.Where(b => b.Owner != a.Owner))
            {
                Assert.False(b.Prefix.StartsWith(a.Prefix, StringComparison.Ordinal), $"{b.Owner} writes {b.Prefix}, inside {a.Owner}'s {a.Prefix}");
            }
        }
    }
}

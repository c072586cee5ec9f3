using System.Text.RegularExpressions;

namespace Saiki.Orleans;

/// <summary>The kinds of ids users give Saiki; each names its own folder in the lake.</summary>
public enum IdKind
{
    /// <summary>A captured database (PostgreSQL or DynamoDB source): <c>{source}/…</c> in the lake; names a replication slot.</summary>
    CaptureSource,
    /// <summary>A Kafka topic source: <c>_kafka/{source}/…</c> in the lake.</summary>
    KafkaSource,
    /// <summary>An event type posted over REST: <c>_events/{type}/…</c> in the lake.</summary>
    EventType,
    /// <summary>A business process monitor (no lake folder of its own).</summary>
    Process,
}

/// <summary>
/// The one id rule for every kind of id: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit,
/// with no "..". Ids never start with '_': everything under a folder beginning with '_' is Saiki's own
/// (<c>_manifest</c>, <c>_events</c>, <c>_kafka</c>, …), so no id can reach into another kind's keys. A capture source's
/// id also names its replication slot and publication in the source database, so it is further limited to what
/// PostgreSQL allows there: lower-case letters, digits and '_', starting with a letter, at most 40.
/// </summary>
public static partial class SaikiIds
{
    /// <summary>Most characters of an id.</summary>
    public const int MAX_LENGTH = 64;
    /// <summary>Most characters of a capture source's id.</summary>
    public const int MAX_CAPTURE_SOURCE_LENGTH = 40;

    /// <summary>Null when <paramref name="id"/> is a valid id of <paramref name="kind"/>, else why not (naming the id and the rule).</summary>
    public static string? Problem(IdKind kind, string? id)
    {
        var what = Describe(kind);
        if (string.IsNullOrEmpty(id))
        {
            return $"{what} is missing";
        }
        if (id[0] == '_')
        {
            return $"{what} '{id}' starts with '_', which is reserved for Saiki's own lake folders (_manifest, _events, _kafka, …)";
        }
        if (!IdPattern().IsMatch(id) || id.Contains("..", StringComparison.Ordinal))
        {
            return $"{what} '{id}' is invalid: use 1 to {MAX_LENGTH} letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'";
        }
        if (kind == IdKind.CaptureSource && !CaptureSourcePattern().IsMatch(id))
        {
            return $"{what} '{id}' is invalid: it names a replication slot, so use 1 to {MAX_CAPTURE_SOURCE_LENGTH} lower-case letters, digits or underscores, starting with a letter";
        }
        return null;
    }

    /// <summary>True when <paramref name="id"/> is a valid id of <paramref name="kind"/>.</summary>
    public static bool IsValid(IdKind kind, string? id) => Problem(kind, id) is null;

    private static string Describe(IdKind kind) => kind switch
    {
        IdKind.CaptureSource => "source id",
        IdKind.KafkaSource => "Kafka source id",
        IdKind.EventType => "event type name",
        IdKind.Process => "process name",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown id kind"),
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,39}$")]
    private static partial Regex CaptureSourcePattern();
}

using Microsoft.Extensions.Logging;
using Saiki.Orleans.Capture;
using Saiki.Orleans.Diagnostics;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Sources;

/// <summary>How every capturing source takes a partition's acknowledgement.</summary>
internal static class SourceAcknowledgements
{
    /// <summary>
    /// Applies <paramref name="ack"/> to the tracker; false when it was not accepted (another run's, or past what this
    /// run emitted to the partition: refused, logged and counted), so its counters must not be taken either.
    /// </summary>
    public static bool Accept(CheckpointTracker tracker, PartitionAck ack, string sourceId, ILogger logger, out bool confirmable)
    {
        var outcome = tracker.Acknowledged(ack.Epoch, ack.Partition.ToString(), ack.Durable);
        confirmable = outcome == Acknowledgement.Confirmable;
        if (outcome == Acknowledgement.Refused)
        {
            SaikiMetrics.AcknowledgementsRefused.Add(1);
            SourceLog.AcknowledgementRefused(logger, sourceId, ack.Partition.ToString(), ack.Durable.ToString(), ack.Epoch);
        }
        return outcome is Acknowledgement.Accepted or Acknowledgement.Confirmable;
    }
}

using Meteora.Checking;
using Meteora.Engine.Hashing;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>
/// Watches replication traffic for the rule "a replica never acknowledges a write before it is
/// durable": when a replica sends a positive ack, the durable part of its disk must already hold that
/// version of the key (or a newer one). Checked at the instant of the ack, so it needs no lucky crash.
/// Repair pushes and their acks are checked the same way, and so are the acks a node sends itself
/// through its local queue (the engine's local message tap reports them).
/// </summary>
internal sealed class AckOracle(SimCluster cluster)
{
    private const int MaxReported = 5;

    private readonly Dictionary<(int Coordinator, long RequestId, int Replica), (string Key, WriteVersion Version, long SentMicros)> _writes = new();
    private readonly List<Violation> _violations = [];
    private readonly Dictionary<(string Key, WriteVersion Version), List<int>> _ackers = new();
    private int _violationCount;

    public IReadOnlyList<Violation> Violations => _violationCount <= MaxReported
        ? _violations
        : [.. _violations, new Violation(ViolationKind.AckBeforeDurable, $"... and {_violationCount - MaxReported} more acks before durability", [], [])];

    /// <summary>
    /// True when every replica that durably acked this version of the key was later removed from the ring
    /// with its disk (a membership fault): the write had no surviving copy, so its loss is expected, as
    /// for any W=1 write whose only replica dies for good.
    /// </summary>
    public bool AckedOnlyByRemovedNodes(string key, WriteVersion version) =>
        cluster.RemovedNodes.Count > 0 && _ackers.TryGetValue((key, version), out List<int>? ackers) && ackers.TrueForAll(cluster.RemovedNodes.Contains);

    public void OnSend(int from, int to, Message message)
    {
        switch (message)
        {
            case ReplicaWrite write:
                _writes[(from, write.RequestId, to)] = (write.Key, write.Version, cluster.NowMicros);
                break;
            case RepairPush push:
                _writes[(from, push.RequestId, to)] = (push.Key, push.Version, cluster.NowMicros);
                break;
            case ReplicaWriteAck { Ok: true } ack:
                CheckAck(from, to, ack.RequestId);
                break;
            case RepairPushAck { Ok: true } ack:
                CheckAck(from, to, ack.RequestId);
                break;
        }
    }

    private void CheckAck(int from, int to, long requestId)
    {
        if (!_writes.Remove((to, requestId, from), out var sent)) return;
        var written = (sent.Key, sent.Version);
        if (!_ackers.TryGetValue(written, out List<int>? ackers)) _ackers[written] = ackers = [];
        if (!ackers.Contains(from)) ackers.Add(from);
        SimNode replica = cluster.Nodes[from];
        int partition = Token.OfKey(written.Key).Partition(cluster.Placement.PartitionCount);
        WriteVersion durable = replica.DurableVersion(partition, written.Key);
        if (durable >= written.Version) return;
        // An ack held back (buggify) may leave after the tombstone it acks was purged past its grace
        // period: absent then means deleted, not lost (seed 2048 with drawn knobs: a 400 ms delay, 200 ms grace).
        if (cluster.Purges.NewestPurgedBy(written.Key, cluster.NowMicros) >= written.Version) return;
        // Likewise an ack held back past a handoff: the replica handed the partition (with this write,
        // durable by then) to its new replicas and dropped it (all,membership seed 141 --joiners 3).
        if (replica.DroppedAtMicros(partition) > sent.SentMicros) return;
        _violationCount++;
        if (_violations.Count < MaxReported)
        {
            _violations.Add(new Violation(ViolationKind.AckBeforeDurable,
                $"ack before durable: node{from} acked {written.Key} v={written.Version} to node{to} " +
                $"(request {requestId}) at {(cluster.NowMicros - SimCluster.EpochMicros) / 1000.0:F3}ms while its disk holds v={durable}",
                [], [from, to]) { Key = written.Key });
        }
    }
}

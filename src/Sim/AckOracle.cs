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
internal sealed class AckOracle(SimCluster cluster, int plannedWrites, int replicationFactor)
{
    private const int MaxReported = 5;

    private readonly Dictionary<(int Coordinator, long RequestId, int Replica), Sent> _writes = new();
    private readonly List<Violation> _violations = [];
    /// <summary>
    /// Every durable ack, in order. Appending costs no lookup; the acks are grouped by written version
    /// (<see cref="_ackers"/>) only when the end-of-run check asks about a run in which some copy was
    /// lost. A hash lookup into a map of every written version on every ack was 1.5 % of a 100,000-op
    /// run's cycles, most of it cache misses, for a map that fault-free runs never read (issue 11).
    /// Sized for one ack per replica of every planned write, so it rarely grows (repair pushes and
    /// hints add more).
    /// </summary>
    private readonly List<Acked> _acks = new(plannedWrites * replicationFactor);

    /// <summary>Who durably acked each written version, as node-id bit masks (ids are below <see cref="SimOptions.MaxNodes"/>, 64): as a replica, and as a fallback keeping a hint. Holds the first <see cref="_acksGrouped"/> of <see cref="_acks"/>.</summary>
    private readonly Dictionary<WrittenVersion, (ulong Direct, ulong ViaHint)> _ackers = new();
    private int _acksGrouped;

    private readonly record struct Acked(WrittenVersion Written, int Node, bool ViaHint);

    /// <summary>A record struct, not a (string, WriteVersion) tuple: a tuple with a reference field runs shared generic code that looks its comparers up at run time (issue 11).</summary>
    private readonly record struct WrittenVersion(string Key, WriteVersion Version)
    {
        /// <summary>
        /// The version alone: a version is one write's (timestamp and coordinator), so it already tells
        /// written versions apart, and the generated hash's randomized string hash of the key was most of
        /// this map's 2 % of the simulator's samples while every ack updated it (issue 11). Equality
        /// still compares the key.
        /// </summary>
        public override int GetHashCode() => Version.GetHashCode();
    }

    /// <summary>A write sent and waiting for its ack: to a replica, a replayed hint to its owner, or (HintTarget ≥ 0) a hint to a fallback.</summary>
    private readonly record struct Sent(string Key, WriteVersion Version, long SentMicros, int HintTarget = -1, bool Replay = false);
    private int _violationCount;

    public IReadOnlyList<Violation> Violations => _violationCount <= MaxReported
        ? _violations
        : [.. _violations, new Violation(ViolationKind.AckBeforeDurable, $"... and {_violationCount - MaxReported} more acks before durability", [], [])];

    /// <summary>
    /// True when every copy that durably acked this version of the key is gone: replicas later removed from
    /// the ring with their disks (a membership fault), and fallbacks whose hint was dropped past its window
    /// or discarded by its owner as older than the tombstone grace period. The write had no surviving
    /// copy, so its loss is expected, as for any W=1 write whose only replica dies for good.
    /// </summary>
    public bool AckedOnlyByLostCopies(string key, WriteVersion version)
    {
        // Nothing was lost in the run: every acker survives (the common case, and two lookups per operation saved).
        if (cluster.RemovedNodes.Count == 0 && !cluster.HintOracle.AnyLost) return false;
        GroupNewAcks();
        if (!_ackers.TryGetValue(new WrittenVersion(key, version), out var ackers)) return false;
        for (int node = 0; node < SimOptions.MaxNodes; node++)
        {
            ulong bit = 1UL << node;
            bool removed = cluster.RemovedNodes.Contains(node);
            if ((ackers.Direct & bit) != 0 && !removed) return false;
            if ((ackers.ViaHint & bit) != 0 && !removed && !cluster.HintOracle.Lost(node, key, version)) return false;
        }
        return true;
    }

    /// <summary>Folds the acks appended since the last call into <see cref="_ackers"/> (acks keep coming after the first end-of-run check: repair pushes).</summary>
    private void GroupNewAcks()
    {
        for (; _acksGrouped < _acks.Count; _acksGrouped++)
        {
            Acked acked = _acks[_acksGrouped];
            ref var ackers = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_ackers, acked.Written, out _);
            if (acked.ViaHint) ackers.ViaHint |= 1UL << acked.Node;
            else ackers.Direct |= 1UL << acked.Node;
        }
    }

    public void OnSend(int from, int to, Message message)
    {
        switch (message)
        {
            case ReplicaWrite write:
                _writes[(from, write.RequestId, to)] = new Sent(write.Key, write.Version, cluster.NowMicros);
                break;
            case HintedWrite hinted:
                _writes[(from, hinted.RequestId, to)] = new Sent(hinted.Key, hinted.Version, cluster.NowMicros, HintTarget: hinted.Target);
                break;
            case RepairPush push:
                _writes[(from, push.RequestId, to)] = new Sent(push.Key, push.Version, cluster.NowMicros);
                break;
            case HintReplay replay:
                _writes[(from, -replay.RequestId, to)] = new Sent(replay.Key, replay.Version, cluster.NowMicros, Replay: true);
                break;
            case HintReplayAck { Ok: true } ack:
                CheckAck(from, to, -ack.RequestId);
                break;
            case ReplicaWriteAck { Ok: true } ack:
                CheckAck(from, to, ack.RequestId);
                break;
            case RepairPushAck { Ok: true } ack:
                CheckAck(from, to, ack.RequestId);
                break;
        }
    }

    /// <summary>A fallback acks a hinted write only once the hint is on its disk for good.</summary>
    private void CheckHintAck(int fallback, int coordinator, long requestId, Sent sent)
    {
        foreach (Meteora.Engine.Handoff.Hint hint in cluster.Nodes[fallback].Storage.DurableHints)
        {
            if (hint.Key == sent.Key && hint.Version == sent.Version && hint.Target == sent.HintTarget) return;
        }
        Report(new Violation(ViolationKind.AckBeforeDurable,
            $"ack before durable: fallback node{fallback} acked its hint of {sent.Key} v={sent.Version} for node{sent.HintTarget} to node{coordinator} " +
            $"(request {requestId}) at {(cluster.NowMicros - SimCluster.EpochMicros) / 1000.0:F3}ms before the hint was durable",
            [], [fallback, coordinator]) { Key = sent.Key });
    }

    private void Report(Violation violation)
    {
        _violationCount++;
        if (_violations.Count < MaxReported) _violations.Add(violation);
    }

    private void CheckAck(int from, int to, long requestId)
    {
        if (!_writes.Remove((to, requestId, from), out Sent sent)) return;
        var written = new WrittenVersion(sent.Key, sent.Version);
        bool viaHint = sent.HintTarget >= 0;
        if ((uint)from >= SimOptions.MaxNodes) throw new InvalidOperationException($"node{from} is beyond the {SimOptions.MaxNodes} node slots an acker mask holds");
        _acks.Add(new Acked(written, from, viaHint));
        SimNode replica = cluster.Nodes[from];
        if (viaHint)
        {
            CheckHintAck(from, to, requestId, sent);
            return;
        }
        // A replayed hint older than the grace period for a key the owner lacks is acked unstored (obsolete).
        if (sent.Replay && sent.Version.TimestampMicros < cluster.Knobs.Repair.PurgeCutoffMicros(replica.Clock.NowMicros)
            && replica.DurableVersion(sent.Key) < sent.Version && !replica.Storage.TryGet(0, sent.Key, out _))
        {
            cluster.HintOracle.OnObsolete(sent.Key, sent.Version);
            return;
        }
        WriteVersion durable = replica.DurableVersion(written.Key);
        if (durable >= written.Version) return;
        int partition = Token.OfKey(written.Key).Partition(cluster.Placement.PartitionCount);
        // An ack held back (buggify) may leave after the tombstone it acks was purged past its grace
        // period: absent then means deleted, not lost (seed 2048 with drawn knobs: a 400 ms delay, 200 ms grace).
        if (cluster.Purges.NewestPurgedBy(written.Key, cluster.NowMicros) >= written.Version) return;
        // Likewise an ack held back past a handoff: the replica handed the partition (with this write,
        // durable by then) to its new replicas and dropped it (all,membership seed 141 --joiners 3).
        if (replica.DroppedAtMicros(partition) > sent.SentMicros) return;
        Report(new Violation(ViolationKind.AckBeforeDurable,
            $"ack before durable: node{from} acked {written.Key} v={written.Version} to node{to} " +
            $"(request {requestId}) at {(cluster.NowMicros - SimCluster.EpochMicros) / 1000.0:F3}ms while its disk holds v={durable}",
            [], [from, to]) { Key = written.Key });
    }
}

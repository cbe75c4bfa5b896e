using Meteora.Checking;
using Meteora.Engine.Hashing;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>What the checks of one run found, and the skew figure (not a violation).</summary>
internal sealed record CheckReport(List<Violation> Violations, int SkewDiscardedWrites);

/// <summary>
/// Runs the shared <see cref="Checker"/> over a simulated cluster, in the order the simulator has
/// always reported them, plus the two checks only the simulator can make: acks before durability
/// (it sees every message and every disk) and quiescence (it sees every engine's pending requests).
/// </summary>
internal static class SimChecks
{
    /// <summary>Checks of the replicas' state, taken the moment anti-entropy converged (before the liveness reads, which would read-repair).</summary>
    public static void CheckFinalState(SimCluster cluster, List<Violation> violations)
    {
        var replicas = new SimReplicaView(cluster);
        Checker.CheckDurability(Survivable(cluster), replicas, cluster.Purges, cluster.NowMicros, violations);
        Checker.CheckConvergence(cluster.History.Operations, replicas, violations);
        CheckDataDropped(cluster, violations);
    }

    /// <summary>
    /// After the ring settled: a node that left holds nothing, and a running member holds data only of
    /// partitions it replicates in the final ring (handed-off data is dropped, so churn cannot grow storage).
    /// </summary>
    private static void CheckDataDropped(SimCluster cluster, List<Violation> violations)
    {
        var placement = cluster.FinalPlacement;
        foreach (SimNode node in cluster.Nodes)
        {
            if (cluster.DepartedNodes.Contains(node.Id) && node.Storage.VisibleCount > 0)
            {
                violations.Add(new Violation(ViolationKind.Convergence, $"membership: node{node.Id} left the ring but still holds {node.Storage.VisibleCount} keys", [], [node.Id]));
                continue;
            }
            if (cluster.DepartedNodes.Contains(node.Id) && node.Storage.HintCount > 0)
            {
                violations.Add(new Violation(ViolationKind.Handoff, $"handoff: node{node.Id} left the ring but still holds {node.Storage.HintCount} hints", [], [node.Id]));
                continue;
            }
            if (!node.Up) continue;
            for (int p = 0; p < placement.PartitionCount; p++)
            {
                int held = node.Storage.CountInPartition(p);
                if (held > 0 && !placement.IsReplica(p, node.Id))
                {
                    violations.Add(new Violation(ViolationKind.Convergence,
                        $"membership: node{node.Id} still holds {held} keys of partition {p}, which it no longer replicates", [], [node.Id]));
                    break;
                }
            }
        }
    }

    /// <summary>The history without acknowledged writes whose every copy was lost: on nodes removed with their disks, or in hints dropped past their window (their loss is expected).</summary>
    private static List<OpRecord> Survivable(SimCluster cluster)
    {
        IReadOnlyList<OpRecord> ops = cluster.History.Operations;
        var survivable = new List<OpRecord>(ops.Count);
        foreach (OpRecord op in ops)
        {
            if (!(op.Acknowledged && cluster.AckOracle.AckedOnlyByLostCopies(op.Key, op.ResultVersion))) survivable.Add(op);
        }
        return survivable;
    }

    public static CheckReport Check(SimCluster cluster, List<Violation> violations)
    {
        IReadOnlyList<OpRecord> ops = cluster.History.Operations;
        Checker.CheckCompletion(ops, violations);
        Checker.CheckNoInventedData(ops, violations);
        Checker.CheckFreshness(Survivable(cluster), cluster.Options.ReplicationFactor, cluster.Purges, violations);
        violations.AddRange(cluster.AckOracle.Violations);
        violations.AddRange(cluster.HintOracle.Violations);
        CheckQuiescence(cluster, violations);
        Checker.CheckLiveness(ops, cluster.Options.RequestTimeoutMs, violations);
        if (cluster.Schedule.Faults.Count == 0 && cluster.Schedule.BuggifySites.Count == 0)
        {
            Checker.CheckFaultFreeSuccess(ops, violations);
        }
        return new CheckReport(violations, Checker.CountSkewDiscardedWrites(ops));
    }

    private static void CheckQuiescence(SimCluster cluster, List<Violation> violations)
    {
        foreach (SimNode node in cluster.Nodes)
        {
            if (!node.Up) continue; // retired (left or removed) or never started
            if (node.Engine.PendingRequestCount != 0)
            {
                violations.Add(new Violation(ViolationKind.Quiescence,
                    $"quiescence: node{node.Id} still has {node.Engine.PendingRequestCount} pending requests", [], [node.Id]));
            }
        }
    }

    /// <summary>Each replica's in-memory disk (what it holds, durable or not), in preference-list order.</summary>
    private sealed class SimReplicaView(SimCluster cluster) : IReplicaView
    {
        private readonly Meteora.Engine.Ring.ReplicaPlacement _placement = cluster.FinalPlacement;

        public IReadOnlyList<ReplicaValue> ReplicasOf(string key)
        {
            var placement = _placement;
            int partition = Token.OfKey(key).Partition(placement.PartitionCount);
            var replicas = new List<ReplicaValue>();
            foreach (int replica in placement.PreferenceList(partition))
            {
                StoredValue? held = cluster.Nodes[replica].Storage.TryGet(partition, key, out StoredValue value) ? value : null;
                replicas.Add(new ReplicaValue(replica, held));
            }
            return replicas;
        }
    }
}

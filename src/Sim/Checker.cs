using System.Text;
using Meteora.Engine.Hashing;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>
/// End-of-run invariants over the history and the replicas' final state. Each violation is one
/// readable line naming the operations involved.
/// </summary>
internal static class Checker
{
    /// <summary>Violations listed per check before the rest are summarized, so output stays readable.</summary>
    private const int MaxReportedPerCheck = 5;

    public static List<string> Check(SimCluster cluster)
    {
        var violations = new List<string>();
        IReadOnlyList<OpRecord> ops = cluster.History.Operations;
        CheckCompletion(ops, violations);
        CheckNoInventedData(ops, violations);
        CheckFreshness(ops, cluster.Options.ReplicationFactor, violations);
        CheckConvergence(cluster, ops, violations);
        CheckQuiescence(cluster, violations);
        CheckFaultFreeSuccess(ops, violations);
        return violations;
    }

    private static void CheckCompletion(IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var found = new List<string>();
        foreach (OpRecord op in ops)
        {
            if (!op.Completed) found.Add($"completion: {op} never completed");
        }
        Report(found, violations);
    }

    /// <summary>Every value a read returned was written by some set of that key, with that set's version when it was acknowledged.</summary>
    private static void CheckNoInventedData(IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var written = new Dictionary<string, OpRecord>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (op.Operation == ClientOperation.Set) written[op.Key + "\0" + Encoding.UTF8.GetString(op.Value!)] = op;
        }
        var found = new List<string>();
        foreach (OpRecord op in ops)
        {
            if (op.Operation != ClientOperation.Get || op.Status != ClientStatus.Ok) continue;
            string text = Encoding.UTF8.GetString(op.ResultValue ?? []);
            if (!written.TryGetValue(op.Key + "\0" + text, out OpRecord? source))
            {
                found.Add($"invented data: {op} returned \"{text}\", which no set of {op.Key} wrote");
            }
            else if (source.Acknowledged && source.ResultVersion != op.ResultVersion)
            {
                found.Add($"invented data: {op} returned \"{text}\" with version {op.ResultVersion}, but {source} wrote it as {source.ResultVersion}");
            }
        }
        Report(found, violations);
    }

    /// <summary>
    /// With R+W>N, a successful read returns a version at least as new as every write acknowledged
    /// (at that W) before the read was invoked.
    /// </summary>
    private static void CheckFreshness(IReadOnlyList<OpRecord> ops, int replicationFactor, List<string> violations)
    {
        var ackedByKey = new Dictionary<string, List<OpRecord>>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            if (!ackedByKey.TryGetValue(op.Key, out var list)) ackedByKey[op.Key] = list = [];
            list.Add(op);
        }
        var found = new List<string>();
        foreach (OpRecord read in ops)
        {
            if (read.Operation != ClientOperation.Get || !(read.Status is ClientStatus.Ok or ClientStatus.NotFound)) continue;
            if (!ackedByKey.TryGetValue(read.Key, out var writes)) continue;
            foreach (OpRecord write in writes)
            {
                if (write.CompleteMicros >= read.InvokeMicros) continue;
                if (read.Consistency + write.Consistency <= replicationFactor) continue;
                if (read.ResultVersion < write.ResultVersion)
                {
                    found.Add($"freshness: {read} returned version {read.ResultVersion}, older than acknowledged {write}");
                    break;
                }
            }
        }
        Report(found, violations);
    }

    /// <summary>After quiescence every replica of every written key holds the same version and value.</summary>
    private static void CheckConvergence(SimCluster cluster, IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (op.IsWrite) keys.Add(op.Key);
        }
        var found = new List<string>();
        foreach (string key in keys)
        {
            int partition = Token.OfKey(key).Partition(cluster.Placement.PartitionCount);
            StoredValue? first = null;
            int firstNode = -1;
            foreach (int replica in cluster.Placement.PreferenceList(partition))
            {
                cluster.Nodes[replica].Storage.TryGet(partition, key, out StoredValue held);
                if (firstNode < 0)
                {
                    first = held;
                    firstNode = replica;
                }
                else if (!Equals(first, held))
                {
                    found.Add($"convergence: key {key} is {Describe(first)} on node{firstNode} but {Describe(held)} on node{replica}");
                    break;
                }
            }
        }
        Report(found, violations);
    }

    private static void CheckQuiescence(SimCluster cluster, List<string> violations)
    {
        foreach (SimNode node in cluster.Nodes)
        {
            if (node.Engine.PendingRequestCount != 0)
            {
                violations.Add($"quiescence: node{node.Id} still has {node.Engine.PendingRequestCount} pending requests");
            }
            if (node.Storage.PendingCount != 0)
            {
                violations.Add($"quiescence: node{node.Id} still has {node.Storage.PendingCount} pending disk writes");
            }
        }
    }

    /// <summary>Without faults nothing may fail: every request must succeed.</summary>
    private static void CheckFaultFreeSuccess(IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var found = new List<string>();
        foreach (OpRecord op in ops)
        {
            if (op.Completed && !(op.Status is ClientStatus.Ok or ClientStatus.NotFound))
            {
                found.Add($"liveness: {op} failed in a fault-free run");
            }
        }
        Report(found, violations);
    }

    private static string Describe(StoredValue? value) => value switch
    {
        null => "absent",
        { IsTombstone: true } => $"tombstone v={value.Version}",
        _ => $"\"{Encoding.UTF8.GetString(value.Value!)}\" v={value.Version}",
    };

    private static void Report(List<string> found, List<string> violations)
    {
        for (int i = 0; i < found.Count && i < MaxReportedPerCheck; i++) violations.Add(found[i]);
        if (found.Count > MaxReportedPerCheck)
        {
            violations.Add($"... and {found.Count - MaxReportedPerCheck} more like the above");
        }
    }
}

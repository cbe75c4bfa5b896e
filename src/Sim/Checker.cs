using System.Text;
using Meteora.Engine.Hashing;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>
/// End-of-run invariants over the history and the replicas' final state. Each violation is one
/// readable line naming the operations involved.
/// </summary>
internal sealed record CheckReport(List<string> Violations, int SkewDiscardedWrites);

internal static class Checker
{
    /// <summary>Violations listed per check before the rest are summarized, so output stays readable.</summary>
    private const int MaxReportedPerCheck = 5;

    /// <summary>Checks of the replicas' state, taken the moment anti-entropy converged (before the liveness reads, which would read-repair).</summary>
    public static void CheckFinalState(SimCluster cluster, List<string> violations)
    {
        IReadOnlyList<OpRecord> ops = cluster.History.Operations;
        CheckDurability(cluster, ops, violations);
        CheckConvergence(cluster, ops, violations);
    }

    public static CheckReport Check(SimCluster cluster, List<string> violations)
    {
        IReadOnlyList<OpRecord> ops = cluster.History.Operations;
        CheckCompletion(ops, violations);
        CheckNoInventedData(ops, violations);
        CheckFreshness(ops, cluster.Options.ReplicationFactor, cluster.Purges, violations);
        violations.AddRange(cluster.AckOracle.Violations);
        CheckQuiescence(cluster, violations);
        CheckLiveness(cluster, ops, violations);
        if (cluster.Schedule.Faults.Count == 0 && cluster.Schedule.BuggifySites.Count == 0)
        {
            CheckFaultFreeSuccess(ops, violations);
        }
        return new CheckReport(violations, CountSkewDiscardedWrites(ops));
    }

    /// <summary>
    /// Durability: for every key, the newest version any replica holds at the end is at least as new
    /// as every write to it that was acknowledged. Crashes cannot undo an acknowledged write, because
    /// nothing is acknowledged before it is durable on W replicas. A key whose newest acknowledged
    /// write is a delete may be absent (its tombstone was purged), but must never hold an older
    /// value again: that would be a resurrection.
    /// </summary>
    private static void CheckDurability(SimCluster cluster, IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var newestAcked = new SortedDictionary<string, OpRecord>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            if (!newestAcked.TryGetValue(op.Key, out OpRecord? best) || op.ResultVersion > best.ResultVersion) newestAcked[op.Key] = op;
        }
        var found = new List<string>();
        foreach (var (key, write) in newestAcked)
        {
            int partition = Token.OfKey(key).Partition(cluster.Placement.PartitionCount);
            StoredValue? held = null;
            foreach (int replica in cluster.Placement.PreferenceList(partition))
            {
                if (cluster.Nodes[replica].Storage.TryGet(partition, key, out StoredValue value)) held = Lww.Merge(held, value);
            }
            WriteVersion purged = cluster.Purges.NewestPurgedBy(key, cluster.NowMicros);
            if (held is { IsTombstone: false } && held.Version < purged)
            {
                found.Add($"resurrection: key {key} holds {Describe(held)} again after its newer tombstone v={purged} was purged");
                continue;
            }
            if (held is not null && held.Version >= write.ResultVersion) continue;
            // Absent, or older than the write, is fine when a tombstone at least as new was purged after its grace.
            if (held is null && purged >= write.ResultVersion) continue;
            bool deleted = write.Operation == ClientOperation.Delete;
            if (deleted && held is { IsTombstone: false })
            {
                found.Add($"resurrection: key {key} holds {Describe(held)} again after {write} was acknowledged");
            }
            else
            {
                found.Add($"durability: key {key} ends at {Describe(held)}, but {write} was acknowledged");
            }
        }
        Report(found, violations);
    }

    /// <summary>After healing, the checker's own R=N reads must all succeed within the request timeout.</summary>
    private static void CheckLiveness(SimCluster cluster, IReadOnlyList<OpRecord> ops, List<string> violations)
    {
        var found = new List<string>();
        long boundMicros = cluster.Options.RequestTimeoutMs * 1000;
        foreach (OpRecord op in ops)
        {
            if (!op.Quiescence || !op.Completed) continue;
            if (!(op.Status is ClientStatus.Ok or ClientStatus.NotFound))
            {
                found.Add($"liveness: after healing, {op} failed: {op.Error}");
            }
            else if (op.CompleteMicros - op.InvokeMicros > boundMicros)
            {
                found.Add($"liveness: after healing, {op} took longer than {cluster.Options.RequestTimeoutMs} ms");
            }
        }
        Report(found, violations);
    }

    /// <summary>
    /// Acknowledged writes that began after another acknowledged write to the same key had completed,
    /// yet carry an older version: LWW silently discarded them (clock skew). Reported as a figure.
    /// </summary>
    private static int CountSkewDiscardedWrites(IReadOnlyList<OpRecord> ops)
    {
        var ackedByKey = new Dictionary<string, List<OpRecord>>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            if (!ackedByKey.TryGetValue(op.Key, out var list)) ackedByKey[op.Key] = list = [];
            list.Add(op);
        }
        int discarded = 0;
        foreach (var (_, writes) in ackedByKey)
        {
            var index = new FreshnessIndex([.. writes], replicationFactor: 0);
            foreach (OpRecord later in writes)
            {
                OpRecord? earlier = index.NewestAckedBefore(later.InvokeMicros, 0);
                if (earlier is not null && later.ResultVersion < earlier.ResultVersion) discarded++;
            }
        }
        return discarded;
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
    /// (at that W) before the read was invoked. Per key, acknowledged writes are sorted by completion
    /// time with a running maximum per W threshold, so each read costs one binary search.
    /// </summary>
    private static void CheckFreshness(IReadOnlyList<OpRecord> ops, int replicationFactor, PurgeLog purges, List<string> violations)
    {
        var ackedByKey = new Dictionary<string, List<OpRecord>>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            if (!ackedByKey.TryGetValue(op.Key, out var list)) ackedByKey[op.Key] = list = [];
            list.Add(op);
        }
        var indexByKey = new Dictionary<string, FreshnessIndex>(StringComparer.Ordinal);
        foreach (var (key, writes) in ackedByKey) indexByKey[key] = new FreshnessIndex(writes, replicationFactor);

        var found = new List<string>();
        foreach (OpRecord read in ops)
        {
            if (read.Operation != ClientOperation.Get || !(read.Status is ClientStatus.Ok or ClientStatus.NotFound)) continue;
            if (!indexByKey.TryGetValue(read.Key, out FreshnessIndex? index)) continue;
            // A write at W intersects this read's quorum when W > N - R.
            int minW = replicationFactor - read.Consistency + 1;
            OpRecord? newest = index.NewestAckedBefore(read.InvokeMicros, minW);
            // "Absent" after a tombstone was purged stands for that tombstone.
            WriteVersion seen = read.ResultVersion.IsZero && read.Status == ClientStatus.NotFound
                ? purges.NewestPurgedBy(read.Key, read.CompleteMicros)
                : read.ResultVersion;
            if (newest is not null && seen < newest.ResultVersion)
            {
                found.Add($"freshness: {read} returned version {read.ResultVersion}, older than acknowledged {newest}");
            }
        }
        Report(found, violations);
    }

    private sealed class FreshnessIndex
    {
        private readonly long[] _completeMicros;
        // _newest[w][i]: the newest write among the first i+1 (by completion) acknowledged at W >= w.
        private readonly OpRecord?[][] _newest;

        public FreshnessIndex(List<OpRecord> writes, int replicationFactor)
        {
            writes.Sort((a, b) => a.CompleteMicros.CompareTo(b.CompleteMicros));
            _completeMicros = new long[writes.Count];
            _newest = new OpRecord?[replicationFactor + 2][];
            for (int w = 0; w < _newest.Length; w++) _newest[w] = new OpRecord?[writes.Count];
            for (int i = 0; i < writes.Count; i++)
            {
                _completeMicros[i] = writes[i].CompleteMicros;
                for (int w = 0; w < _newest.Length; w++)
                {
                    OpRecord? best = i > 0 ? _newest[w][i - 1] : null;
                    if (writes[i].Consistency >= w && (best is null || writes[i].ResultVersion > best.ResultVersion)) best = writes[i];
                    _newest[w][i] = best;
                }
            }
        }

        public OpRecord? NewestAckedBefore(long invokeMicros, int minW)
        {
            if (minW >= _newest.Length) return null;
            int lo = 0, hi = _completeMicros.Length; // first index with complete >= invoke
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (_completeMicros[mid] < invokeMicros) lo = mid + 1;
                else hi = mid;
            }
            return lo == 0 ? null : _newest[Math.Max(0, minW)][lo - 1];
        }
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
        }
    }

    /// <summary>Without faults (and without buggify) nothing may fail: every request must succeed.</summary>
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

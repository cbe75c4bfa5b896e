using System.Text;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Checking;

/// <summary>
/// End-of-run invariants over a history of client operations and the replicas' final state, shared by
/// the simulator and the real-mode nemesis harness: it sees only the history, a replica view and the
/// purge log, never the world that produced them. Each violation is one readable line naming the
/// operations involved, plus the same facts as data (<see cref="Violation"/>).
/// </summary>
public static class Checker
{
    /// <summary>Violations listed per check before the rest are summarized, so output stays readable.</summary>
    public const int MaxReportedPerCheck = 5;

    /// <summary>
    /// Durability: for every key, the newest version any replica holds at the end is at least as new
    /// as every write to it that was acknowledged. Crashes cannot undo an acknowledged write, because
    /// nothing is acknowledged before it is durable on W replicas. A key whose newest acknowledged
    /// write is a delete may be absent (its tombstone was purged), but must never hold an older
    /// value again: that would be a resurrection.
    /// </summary>
    public static void CheckDurability(IReadOnlyList<OpRecord> ops, IReplicaView replicas, PurgeLog purges, long nowMicros, List<Violation> violations)
    {
        // A hash map while scanning the history, then the few keys sorted once: a sorted map cost a tree
        // walk of string compares per operation (issue 11); findings still come out in key order.
        var newestAcked = new Dictionary<string, OpRecord>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            ref OpRecord? best = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(newestAcked, op.Key, out _);
            if (best is null || op.ResultVersion > best.ResultVersion) best = op;
        }
        string[] keys = [.. newestAcked.Keys];
        Array.Sort(keys, StringComparer.Ordinal);
        var found = new List<Violation>();
        foreach (string key in keys)
        {
            OpRecord write = newestAcked[key];
            StoredValue? held = null;
            var nodes = new List<int>();
            foreach (ReplicaValue replica in replicas.ReplicasOf(key))
            {
                nodes.Add(replica.Node);
                if (replica.Value is { } value) held = Lww.Merge(held, value);
            }
            WriteVersion purged = purges.NewestPurgedBy(key, nowMicros);
            if (held is { IsTombstone: false } && held.Version < purged)
            {
                found.Add(new Violation(ViolationKind.Resurrection,
                    $"resurrection: key {key} holds {Describe(held)} again after its newer tombstone v={purged} was purged", [], nodes) { Key = key });
                continue;
            }
            if (held is not null && held.Version >= write.ResultVersion) continue;
            // Absent, or older than the write, is fine when a tombstone at least as new was purged after its grace.
            if (held is null && purged >= write.ResultVersion) continue;
            bool deleted = write.Operation == ClientOperation.Delete;
            if (deleted && held is { IsTombstone: false })
            {
                found.Add(new Violation(ViolationKind.Resurrection,
                    $"resurrection: key {key} holds {Describe(held)} again after {write} was acknowledged", [write.Id], nodes) { Key = key });
            }
            else
            {
                found.Add(new Violation(ViolationKind.Durability,
                    $"durability: key {key} ends at {Describe(held)}, but {write} was acknowledged", [write.Id], nodes) { Key = key });
            }
        }
        Report(found, violations);
    }

    /// <summary>After quiescence every replica of every written key holds the same version and value.</summary>
    public static void CheckConvergence(IReadOnlyList<OpRecord> ops, IReplicaView replicas, List<Violation> violations)
    {
        var found = new List<Violation>();
        foreach (string key in WrittenKeys(ops))
        {
            StoredValue? first = null;
            int firstNode = -1;
            foreach (ReplicaValue replica in replicas.ReplicasOf(key))
            {
                if (firstNode < 0)
                {
                    first = replica.Value;
                    firstNode = replica.Node;
                }
                else if (!Equals(first, replica.Value))
                {
                    found.Add(new Violation(ViolationKind.Convergence,
                        $"convergence: key {key} is {Describe(first)} on node{firstNode} but {Describe(replica.Value)} on node{replica.Node}",
                        [], [firstNode, replica.Node]) { Key = key });
                    break;
                }
            }
        }
        Report(found, violations);
    }

    /// <summary>Every key some operation of the history wrote, in ordinal order.</summary>
    public static SortedSet<string> WrittenKeys(IReadOnlyList<OpRecord> ops)
    {
        // Collected in a hash set and sorted once: a sorted set walked its tree for every write (issue 11).
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (op.IsWrite) keys.Add(op.Key);
        }
        return new SortedSet<string>(keys, StringComparer.Ordinal);
    }

    /// <summary>After healing, the checker's own reads (<see cref="OpRecord.Quiescence"/>) must all succeed within the request timeout.</summary>
    public static void CheckLiveness(IReadOnlyList<OpRecord> ops, long requestTimeoutMs, List<Violation> violations)
    {
        var found = new List<Violation>();
        long boundMicros = requestTimeoutMs * 1000;
        foreach (OpRecord op in ops)
        {
            if (!op.Quiescence || !op.Completed) continue;
            if (!(op.Status is ClientStatus.Ok or ClientStatus.NotFound))
            {
                found.Add(OpViolation(ViolationKind.Liveness, $"liveness: after healing, {op} failed: {op.Error}", op));
            }
            else if (op.CompleteMicros - op.InvokeMicros > boundMicros)
            {
                found.Add(OpViolation(ViolationKind.Liveness, $"liveness: after healing, {op} took longer than {requestTimeoutMs} ms", op));
            }
        }
        Report(found, violations);
    }

    /// <summary>
    /// Acknowledged writes that began after another acknowledged write to the same key had completed,
    /// yet carry an older version: LWW silently discarded them (clock skew). Reported as a figure.
    /// </summary>
    public static int CountSkewDiscardedWrites(IReadOnlyList<OpRecord> ops)
    {
        int discarded = 0;
        foreach (var (_, writes) in FreshnessIndex.AckedByKey(ops))
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

    public static void CheckCompletion(IReadOnlyList<OpRecord> ops, List<Violation> violations)
    {
        var found = new List<Violation>();
        foreach (OpRecord op in ops)
        {
            if (!op.Completed) found.Add(OpViolation(ViolationKind.Completion, $"completion: {op} never completed", op));
        }
        Report(found, violations);
    }

    /// <summary>
    /// A key and a value, equal when both match byte for byte. Joining them into one string for the
    /// lookup cost a UTF-8 decode and two concatenations per operation (issue 11, simulator profile).
    /// </summary>
    private readonly struct KeyAndValue(string key, byte[] value) : IEquatable<KeyAndValue>
    {
        private readonly string _key = key;
        private readonly byte[] _value = value;

        public bool Equals(KeyAndValue other) => _key == other._key && _value.AsSpan().SequenceEqual(other._value);

        public override bool Equals(object? obj) => obj is KeyAndValue other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_key);
            hash.AddBytes(_value);
            return hash.ToHashCode();
        }
    }

    /// <summary>Every value a read returned was written by some set of that key, with that set's version when it was acknowledged.</summary>
    public static void CheckNoInventedData(IReadOnlyList<OpRecord> ops, List<Violation> violations)
    {
        var written = new Dictionary<KeyAndValue, OpRecord>(ops.Count); // an upper bound: no regrowth, no rehash
        foreach (OpRecord op in ops)
        {
            if (op.Operation == ClientOperation.Set) written[new KeyAndValue(op.Key, op.Value!)] = op;
        }
        var found = new List<Violation>();
        foreach (OpRecord op in ops)
        {
            if (op.Operation != ClientOperation.Get || op.Status != ClientStatus.Ok) continue;
            if (!written.TryGetValue(new KeyAndValue(op.Key, op.ResultValue ?? []), out OpRecord? source))
            {
                found.Add(OpViolation(ViolationKind.InventedData, $"invented data: {op} returned \"{ReturnedText(op)}\", which no set of {op.Key} wrote", op));
            }
            else if (source.Acknowledged && source.ResultVersion != op.ResultVersion)
            {
                found.Add(new Violation(ViolationKind.InventedData,
                    $"invented data: {op} returned \"{ReturnedText(op)}\" with version {op.ResultVersion}, but {source} wrote it as {source.ResultVersion}",
                    [op.Id, source.Id], [op.Coordinator, source.Coordinator]) { Key = op.Key });
            }
        }
        Report(found, violations);
    }

    private static string ReturnedText(OpRecord read) => Encoding.UTF8.GetString(read.ResultValue ?? []);

    /// <summary>
    /// With R+W>N, a successful strict read returns a version at least as new as every strict write
    /// acknowledged (at that W) before the read was invoked. Sloppy requests (fallbacks counted) are not
    /// checked on either side: a sloppy quorum does not intersect a later quorum until its hints are
    /// delivered (Dynamo section 4.6). Per key, acknowledged writes are sorted by completion time with a
    /// running maximum per W threshold, so each read costs one binary search.
    /// </summary>
    public static void CheckFreshness(IReadOnlyList<OpRecord> ops, int replicationFactor, PurgeLog purges, List<Violation> violations)
    {
        var strictWrites = new List<OpRecord>(ops.Count);
        foreach (OpRecord op in ops)
        {
            if (op.PrimaryOnly) strictWrites.Add(op);
        }
        var indexByKey = new Dictionary<string, FreshnessIndex>(StringComparer.Ordinal);
        foreach (var (key, writes) in FreshnessIndex.AckedByKey(strictWrites)) indexByKey[key] = new FreshnessIndex(writes, replicationFactor);

        var found = new List<Violation>();
        foreach (OpRecord read in ops)
        {
            if (read.Operation != ClientOperation.Get || !read.PrimaryOnly || !(read.Status is ClientStatus.Ok or ClientStatus.NotFound)) continue;
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
                found.Add(new Violation(ViolationKind.Freshness,
                    $"freshness: {read} returned version {read.ResultVersion}, older than acknowledged {newest}",
                    [read.Id, newest.Id], [read.Coordinator, newest.Coordinator]) { Key = read.Key });
            }
        }
        Report(found, violations);
    }

    /// <summary>Without faults (and without buggify) nothing may fail: every request must succeed.</summary>
    public static void CheckFaultFreeSuccess(IReadOnlyList<OpRecord> ops, List<Violation> violations)
    {
        var found = new List<Violation>();
        foreach (OpRecord op in ops)
        {
            if (op.Completed && !(op.Status is ClientStatus.Ok or ClientStatus.NotFound))
            {
                found.Add(OpViolation(ViolationKind.Liveness, $"liveness: {op} failed in a fault-free run", op));
            }
        }
        Report(found, violations);
    }

    public static string Describe(StoredValue? value) => value switch
    {
        null => "absent",
        { IsTombstone: true } => $"tombstone v={value.Version}",
        _ => $"\"{Encoding.UTF8.GetString(value.Value!)}\" v={value.Version}",
    };

    private static Violation OpViolation(ViolationKind kind, string text, OpRecord op) =>
        new(kind, text, [op.Id], [op.Coordinator]) { Key = op.Key };

    /// <summary>Adds the first <see cref="MaxReportedPerCheck"/> findings of one check and one line summarizing the rest.</summary>
    public static void Report(List<Violation> found, List<Violation> violations)
    {
        for (int i = 0; i < found.Count && i < MaxReportedPerCheck; i++) violations.Add(found[i]);
        if (found.Count > MaxReportedPerCheck)
        {
            violations.Add(new Violation(found[0].Kind, $"... and {found.Count - MaxReportedPerCheck} more like the above", [], [])
            {
                Count = found.Count - MaxReportedPerCheck,
            });
        }
    }
}

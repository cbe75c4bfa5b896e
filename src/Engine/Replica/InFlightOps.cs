using System.Runtime.CompilerServices;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Replica;

/// <summary>Who gets an ack once a replica write is durable, and which message kind it is.</summary>
internal enum AckKind : byte
{
    ClientWrite = 1,
    RepairPush = 2,
    HintReplay = 3,
}

internal readonly record struct AckTo(int Node, AckKind Kind, long RequestId);

/// <summary>One disk operation the replica submitted and the store has not completed yet.</summary>
internal readonly record struct StorageOp(int Partition, string Key, WriteVersion Version, AckTo? Waiter);

/// <summary>
/// The replica's disk operations in flight, each under its own completion token, and for every key
/// with operations in flight the version its Merkle tree counts: a failed operation is rolled back by
/// the store, and the tree must follow what is visible then without guessing (simulator seed 459: a
/// purge failed after a repair had re-written the same tombstone, and a guess toggled it out of the
/// tree). Bounded by <see cref="Limits.MaxInFlightStorageOps"/>.
/// </summary>
internal sealed class InFlightOps
{
    private readonly Dictionary<long, StorageOp> _ops = new();
    private readonly Dictionary<string, (WriteVersion? Counted, int Pending)> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _byPartition = new();
    private readonly HashSet<long> _dropTokens = new();
    private long _nextToken;

    public int Count => _ops.Count + _dropTokens.Count;

    public bool Full => Count >= Limits.MaxInFlightStorageOps;

    public bool AnyInPartition(int partition) => _byPartition.ContainsKey(partition);

    /// <summary>Tracks a new operation; <paramref name="counted"/> is the version the tree counts for the key now.</summary>
    public long Add(StorageOp op, WriteVersion? counted)
    {
        if (Full) throw new InvalidOperationException($"{Count} storage operations in flight; the limit is {Limits.MaxInFlightStorageOps}");
        long token = ++_nextToken;
        _ops.Add(token, op);
        int pending = _keys.TryGetValue(op.Key, out var entry) ? entry.Pending : 0;
        _keys[op.Key] = (counted, pending + 1);
        _byPartition[op.Partition] = _byPartition.GetValueOrDefault(op.Partition) + 1;
        return token;
    }

    /// <summary>Tracks a partition drop: counted against the limit, under its own token.</summary>
    public long AddDrop(int partition)
    {
        if (Full) throw new InvalidOperationException($"{_ops.Count} storage operations in flight; the limit is {Limits.MaxInFlightStorageOps}");
        long token = ++_nextToken;
        _dropTokens.Add(token);
        return token;
    }

    public bool TryCompleteDrop(long token) => _dropTokens.Remove(token);

    /// <summary>Removes a completed operation; <paramref name="counted"/> is what the tree counted for its key.</summary>
    public bool TryComplete(long token, out StorageOp op, out WriteVersion? counted)
    {
        counted = null;
        if (!_ops.Remove(token, out op)) return false;
        (counted, int pending) = _keys[op.Key];
        if (pending == 1) _keys.Remove(op.Key);
        else _keys[op.Key] = (counted, pending - 1);
        int inPartition = _byPartition[op.Partition];
        if (inPartition == 1) _byPartition.Remove(op.Partition);
        else _byPartition[op.Partition] = inPartition - 1;
        return true;
    }

    /// <summary>After a failed operation the tree was set to what is visible now; later completions of the key start from that.</summary>
    public void Recount(string key, WriteVersion? counted)
    {
        if (_keys.TryGetValue(key, out var entry)) _keys[key] = (counted, entry.Pending);
    }

    /// <summary>Every token is tracked exactly once: per-key and per-partition counts add up to the operations.</summary>
    /// <summary>
    /// Runs after every event: the cheap bound inline, the recount only when deep. The recount and the
    /// messages live in other methods because their locals (enumerators, string builders) made this
    /// method's frame zero ~80 instructions' worth of stack on every call (issue 11, callgrind).
    /// </summary>
    public void CheckInvariants(bool deep)
    {
        if (Count > Limits.MaxInFlightStorageOps) ThrowTooMany(_ops.Count);
        if (deep) CheckCounts();

        static void ThrowTooMany(int ops) => throw new InvalidOperationException($"{ops} storage ops exceed the limit");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckCounts()
    {
        var perKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var perPartition = new Dictionary<int, int>();
        foreach (StorageOp op in _ops.Values)
        {
            perKey[op.Key] = perKey.GetValueOrDefault(op.Key) + 1;
            perPartition[op.Partition] = perPartition.GetValueOrDefault(op.Partition) + 1;
        }
        if (perKey.Count != _keys.Count || perPartition.Count != _byPartition.Count)
        {
            throw new InvalidOperationException($"in-flight ops: {perKey.Count} keys / {perPartition.Count} partitions counted, {_keys.Count} / {_byPartition.Count} tracked");
        }
        foreach (var (key, count) in perKey)
        {
            if (_keys[key].Pending != count) throw new InvalidOperationException($"key {key}: {count} ops in flight, {_keys[key].Pending} tracked");
        }
        foreach (var (partition, count) in perPartition)
        {
            if (_byPartition[partition] != count) throw new InvalidOperationException($"partition {partition}: {count} ops in flight, {_byPartition[partition]} tracked");
        }
    }
}

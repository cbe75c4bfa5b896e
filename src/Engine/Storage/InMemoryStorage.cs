using Meteora.Engine.Handoff;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Storage;

/// <summary>
/// In-memory store with a durable/volatile split, driven by its host: writes are visible at once
/// and queue up as pending; the host decides when the oldest pending write becomes durable (or
/// fails) by calling <see cref="CompleteOldest"/>, and may <see cref="Crash"/> the store, which
/// drops every write that was not yet durable.
/// </summary>
public sealed class InMemoryStorage : IStorage
{
    /// <summary>Pending (not yet durable) operations this store accepts before refusing more.</summary>
    public const int MaxPendingOperations = 1_000_000;

    private readonly Dictionary<string, StoredValue> _visible = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredValue> _durable = new(StringComparer.Ordinal);
    private readonly Queue<PendingOperation> _pending = new();
    /// <summary>Each partition's visible keys in <see cref="StorageOrder"/>, with their token-high-64 so comparisons never rehash.</summary>
    private readonly Dictionary<int, SortedSet<OrderedKey>> _keysByPartition = new();
    private readonly Dictionary<string, int> _partitionOf = new(StringComparer.Ordinal);
    private byte[]? _ringState;
    private readonly SortedDictionary<(int Target, long Sequence), Hint> _visibleHints = new();
    private readonly Dictionary<(int Target, long Sequence), Hint> _durableHints = new();
    private long _visibleBytes;

    public int PendingCount => _pending.Count;

    public int VisibleCount => _visible.Count;

    public bool TryGet(int partition, string key, out StoredValue value) =>
        _visible.TryGetValue(key, out value!);

    /// <summary>What a crash right now would leave for this key.</summary>
    public bool TryGetDurable(string key, out StoredValue value) => _durable.TryGetValue(key, out value!);

    public void Write(int partition, string key, StoredValue value, long completionToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        RequireRoom();
        SetVisible(partition, key, value);
        _pending.Enqueue(new PendingOperation(completionToken, key, value, Purge: false));
    }

    public int Scan(int partition, TokenRange range, string? afterKey, List<KeyValuePair<string, StoredValue>> output, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (maxCount < 1) throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, "must be positive");
        if (!_keysByPartition.TryGetValue(partition, out SortedSet<OrderedKey>? keys) || keys.Count == 0) return 0;
        var lower = new OrderedKey(range.First, ""); // "" sorts first among the keys of a token: inclusive start
        var upper = new OrderedKey(range.Last, null); // null sorts after every key of its token: inclusive end
        bool skipLower = false;
        if (afterKey is not null)
        {
            var after = new OrderedKey(StorageOrder.TokenHigh64(afterKey), afterKey);
            if (OrderedKey.Comparer.Compare(after, upper) >= 0) return 0;
            if (OrderedKey.Comparer.Compare(after, lower) >= 0) (lower, skipLower) = (after, true);
        }
        // The view costs O(log n + entries in it): a leaf's range, or what is left of the partition.
        int added = 0;
        foreach (OrderedKey entry in keys.GetViewBetween(lower, upper))
        {
            if (skipLower && entry == lower) continue; // the cursor itself is exclusive
            output.Add(new KeyValuePair<string, StoredValue>(entry.Key!, _visible[entry.Key!]));
            if (++added == maxCount) break;
        }
        return added;
    }

    public void Purge(int partition, string key, WriteVersion tombstone, long completionToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        RequireRoom();
        if (_visible.TryGetValue(key, out StoredValue? held) && held.IsTombstone && held.Version == tombstone)
        {
            RemoveVisible(key);
        }
        _pending.Enqueue(new PendingOperation(completionToken, key, StoredValue.Tombstone(tombstone), Purge: true));
    }

    /// <summary>Drops every entry of the partition from what is visible; the durable copy goes when the operation completes.</summary>
    public void DropPartition(int partition, long completionToken)
    {
        RequireRoom();
        if (_keysByPartition.TryGetValue(partition, out SortedSet<OrderedKey>? keys))
        {
            foreach (OrderedKey entry in keys)
            {
                if (_visible.Remove(entry.Key!, out StoredValue? gone)) _visibleBytes -= SizeOf(entry.Key!, gone);
            }
            keys.Clear();
        }
        _pending.Enqueue(new PendingOperation(completionToken, null, null, Purge: false, DropPartition: partition));
    }

    public bool SupportsHints => true;

    public void WriteHint(Hint hint, long completionToken)
    {
        ArgumentNullException.ThrowIfNull(hint);
        RequireRoom();
        _visibleHints[(hint.Target, hint.Sequence)] = hint;
        _pending.Enqueue(new PendingOperation(completionToken, null, null, Purge: false) { Hint = hint });
    }

    public void DeleteHint(int target, long sequence, long completionToken)
    {
        RequireRoom();
        _visibleHints.Remove((target, sequence));
        _pending.Enqueue(new PendingOperation(completionToken, null, null, Purge: false) { HintDeleted = (target, sequence) });
    }

    public void ReadHints(List<Hint> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.AddRange(_visibleHints.Values);
    }

    /// <summary>Hints visible now (written, not deleted), and what a crash right now would leave.</summary>
    public int HintCount => _visibleHints.Count;

    public IReadOnlyCollection<Hint> DurableHints => _durableHints.Values;

    public bool HasDurableHint(int target, long sequence) => _durableHints.ContainsKey((target, sequence));

    public Hint? VisibleHint(int target, long sequence) => _visibleHints.GetValueOrDefault((target, sequence));

    /// <summary>Bytes of the visible hints (<see cref="Hint.SizeBytes"/>), for one target or (null) all.</summary>
    public long VisibleHintBytes(int? target)
    {
        long bytes = 0;
        foreach (Hint hint in _visibleHints.Values)
        {
            if (target is null || hint.Target == target) bytes += hint.SizeBytes;
        }
        return bytes;
    }

    private void CompleteHint(PendingOperation op, bool durable)
    {
        if (op.Hint is { } hint)
        {
            var id = (hint.Target, hint.Sequence);
            if (durable) _durableHints[id] = hint;
            else _visibleHints.Remove(id);
            return;
        }
        var deleted = op.HintDeleted!.Value;
        if (durable)
        {
            _durableHints.Remove(deleted);
            return;
        }
        // A failed delete leaves the hint as it was: durable, or still waiting for its own write.
        if (_durableHints.TryGetValue(deleted, out Hint? kept)) _visibleHints[deleted] = kept;
        foreach (PendingOperation later in _pending)
        {
            if (later.Hint is { } pending && (pending.Target, pending.Sequence) == deleted) _visibleHints[deleted] = pending;
        }
    }

    /// <summary>The saved ring state; a ring save is durable at once (real mode writes it with a synced write).</summary>
    public byte[]? ReadRingState() => _ringState;

    public void WriteRingState(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        _ringState = (byte[])encoded.Clone();
    }

    public (long Keys, long Bytes) EstimateSize() => (_visible.Count, _visibleBytes);

    private static long SizeOf(string key, StoredValue value) => key.Length + 12 + (value.Value?.Length ?? 0);

    /// <summary>How many visible entries the partition holds.</summary>
    public int CountInPartition(int partition) => _keysByPartition.TryGetValue(partition, out var keys) ? keys.Count : 0;

    public void Sync(long completionToken)
    {
        RequireRoom();
        _pending.Enqueue(new PendingOperation(completionToken, null, null, Purge: false));
    }

    /// <summary>
    /// Finishes the oldest pending operation. A failed write is rolled back from the visible state
    /// (to the durable value, or a later pending write of the same key). Returns its token.
    /// </summary>
    public long CompleteOldest(bool durable)
    {
        if (!_pending.TryDequeue(out PendingOperation op))
        {
            throw new InvalidOperationException("no pending storage operation to complete");
        }
        if (op.Hint is not null || op.HintDeleted is not null)
        {
            CompleteHint(op, durable);
        }
        else if (op.DropPartition >= 0)
        {
            if (durable) DropDurable(op.DropPartition);
            else RestorePartition(op.DropPartition);
        }
        else if (op.Purge)
        {
            if (durable && _durable.TryGetValue(op.Key!, out StoredValue? held) && held.Equals(op.Value))
            {
                _durable.Remove(op.Key!);
            }
            else if (!durable)
            {
                RollBack(op.Key!);
            }
        }
        else if (op.Key is not null && op.Value is not null)
        {
            if (durable)
            {
                _durable[op.Key] = Lww.Merge(_durable.GetValueOrDefault(op.Key), op.Value)!;
            }
            else
            {
                RollBack(op.Key);
            }
        }
        return op.Token;
    }

    /// <summary>Loses every write that was not yet durable, as a power cut would.</summary>
    public void Crash()
    {
        _pending.Clear();
        _visible.Clear();
        _visibleBytes = 0;
        foreach (var keys in _keysByPartition.Values) keys.Clear();
        foreach (var (key, value) in _durable) SetVisible(_partitionOf[key], key, value);
        _visibleHints.Clear();
        foreach (var (id, hint) in _durableHints) _visibleHints[id] = hint;
    }

    /// <summary>The durable entries (what survives a crash), unordered.</summary>
    public IEnumerable<KeyValuePair<string, StoredValue>> DurableEntries => _durable;

    /// <summary>The visible entries, unordered.</summary>
    public IEnumerable<KeyValuePair<string, StoredValue>> VisibleEntries => _visible;

    private void DropDurable(int partition)
    {
        var gone = new List<string>();
        foreach (var (key, _) in _durable)
        {
            if (_partitionOf[key] == partition) gone.Add(key);
        }
        foreach (string key in gone) _durable.Remove(key);
    }

    /// <summary>A failed drop: the partition's durable entries (and later pending writes) are visible again.</summary>
    private void RestorePartition(int partition)
    {
        foreach (var (key, _) in _durable)
        {
            if (_partitionOf[key] == partition) RollBack(key);
        }
    }

    private void RollBack(string key)
    {
        StoredValue? restored = _durable.GetValueOrDefault(key);
        foreach (PendingOperation later in _pending)
        {
            if (later.Key == key && !later.Purge) restored = Lww.Merge(restored, later.Value);
        }
        if (restored is null) RemoveVisible(key);
        else SetVisible(_partitionOf[key], key, restored);
    }

    private void SetVisible(int partition, string key, StoredValue value)
    {
        if (_partitionOf.TryGetValue(key, out int known) && known != partition)
        {
            throw new ArgumentException($"key {key} was stored in partition {known}, now {partition}");
        }
        _partitionOf[key] = partition;
        if (_visible.TryGetValue(key, out StoredValue? before)) _visibleBytes -= SizeOf(key, before);
        _visibleBytes += SizeOf(key, value);
        if (_visible.TryAdd(key, value))
        {
            if (!_keysByPartition.TryGetValue(partition, out SortedSet<OrderedKey>? keys))
            {
                _keysByPartition[partition] = keys = new SortedSet<OrderedKey>(OrderedKey.Comparer);
            }
            keys.Add(new OrderedKey(StorageOrder.TokenHigh64(key), key));
        }
        else
        {
            _visible[key] = value;
        }
    }

    private void RemoveVisible(string key)
    {
        if (_visible.Remove(key, out StoredValue? gone)) _visibleBytes -= SizeOf(key, gone);
        if (gone is not null) _keysByPartition[_partitionOf[key]].Remove(new OrderedKey(StorageOrder.TokenHigh64(key), key));
    }

    private void RequireRoom()
    {
        if (_pending.Count >= MaxPendingOperations)
        {
            throw new InvalidOperationException($"storage has {MaxPendingOperations} pending operations; the host must complete some first");
        }
    }

    private readonly record struct PendingOperation(long Token, string? Key, StoredValue? Value, bool Purge, int DropPartition = -1)
    {
        public Hint? Hint { get; init; }
        public (int Target, long Sequence)? HintDeleted { get; init; }
    }

    /// <summary>A key with its token-high-64, in <see cref="StorageOrder"/>. A null key is a scan bound after every key of its token.</summary>
    private readonly record struct OrderedKey(ulong TokenHigh64, string? Key)
    {
        public static readonly IComparer<OrderedKey> Comparer = Comparer<OrderedKey>.Create(static (x, y) =>
        {
            int byToken = x.TokenHigh64.CompareTo(y.TokenHigh64);
            if (byToken != 0) return byToken;
            if (x.Key is null || y.Key is null) return (x.Key is null).CompareTo(y.Key is null);
            return StorageOrder.Compare(x.TokenHigh64, x.Key, y.TokenHigh64, y.Key);
        });
    }
}

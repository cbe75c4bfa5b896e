using Meteora.Engine.Ring;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Merkle;

/// <summary>
/// The Merkle trees of every partition this node holds (replicates now, receives in a ring change, or
/// still has to hand off), kept equal to the visible storage state. A tracked partition's tree is
/// (re)built from storage in bounded slices after a start or when tracking begins (never one long pause);
/// while a partition is rebuilding, writes to keys the scan has already passed update its tree and
/// later keys are left to the scan, so nothing is counted twice.
/// </summary>
internal sealed class ReplicaTrees
{
    private readonly SortedDictionary<int, PartitionTree> _trees = new();
    private readonly List<KeyValuePair<string, StoredValue>> _scratch = [];

    /// <summary>The owning replica store's: it hashed the key to find the partition just before the change reaches the tree.</summary>
    private readonly Hashing.KeyTokenCache _tokens;

    private readonly Repair.TombstoneLog _tombstones;

    private readonly int _partitionCount;

    public ReplicaTrees(int partitionCount, IEnumerable<int> partitions, int depth, Repair.TombstoneLog tombstones, Hashing.KeyTokenCache tokens)
    {
        _tombstones = tombstones;
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _partitionCount = partitionCount;
        Depth = depth;
        foreach (int p in partitions) Track(p);
    }

    public int Depth { get; }

    public IEnumerable<int> Partitions => _trees.Keys;

    /// <summary>How many partitions this node holds data for.</summary>
    public int Count => _trees.Count;

    public bool Tracks(int partition) => _trees.ContainsKey(partition);

    /// <summary>Starts keeping a tree for the partition; it is built from storage by the next rebuild slices. False if already tracked.</summary>
    public bool Track(int partition)
    {
        if ((uint)partition >= (uint)_partitionCount) throw new ArgumentOutOfRangeException(nameof(partition), partition, $"partition must be in 0..{_partitionCount - 1}");
        if (_trees.ContainsKey(partition)) return false;
        _trees.Add(partition, new PartitionTree(new MerkleTree(Depth, _partitionCount)));
        AllReady = false;
        return true;
    }

    /// <summary>Forgets the partition's tree (its data is being dropped).</summary>
    public void Untrack(int partition)
    {
        if (!_trees.Remove(partition)) throw new InvalidOperationException($"partition {partition} has no tree to forget");
    }

    public bool AllReady { get; private set; }

    /// <summary>The partition's tree if it is built.</summary>
    public MerkleTree? Ready(int partition) =>
        _trees.TryGetValue(partition, out PartitionTree? t) && t.Ready ? t.Tree : null;

    /// <summary>
    /// Records that the key's visible version changed from <paramref name="before"/> to
    /// <paramref name="after"/> (null: absent); a tombstone that becomes visible is logged for GC.
    /// While the partition is rebuilding, keys the scan has not reached yet are left to the scan,
    /// which counts and logs what it finds.
    /// </summary>
    public void OnVisibleChange(int partition, string key, WriteVersion? before, StoredValue? after)
    {
        if (before == after?.Version || !_trees.TryGetValue(partition, out PartitionTree? t)) return;
        // The cursor is in scan order (StorageOrder): keys after it are still ahead of the scan.
        if (!t.Ready && (t.Cursor is null || StorageOrder.Instance.Compare(key, t.Cursor) > 0)) return;
        t.Tree.Replace(key, _tokens.Of(key), before, after?.Version);
        if (after is { IsTombstone: true }) _tombstones.OnTombstoneArrived(partition, key, after.Version);
    }

    /// <summary>Scans up to <paramref name="maxEntries"/> entries into the first unbuilt tree; returns true while work remains.</summary>
    public bool RebuildSlice(IStorage storage, int maxEntries)
    {
        foreach (var (partition, t) in _trees)
        {
            if (t.Ready) continue;
            _scratch.Clear();
            int scanned = storage.Scan(partition, TokenRange.All, t.Cursor, _scratch, maxEntries);
            foreach (var (key, value) in _scratch)
            {
                t.Tree.Add(key, value.Version);
                if (value.IsTombstone) _tombstones.OnTombstoneArrived(partition, key, value.Version);
            }
            if (scanned > 0) t.Cursor = _scratch[^1].Key;
            if (scanned < maxEntries) t.Ready = true;
            return true;
        }
        AllReady = true;
        return false;
    }

    private sealed class PartitionTree(MerkleTree tree)
    {
        public MerkleTree Tree { get; } = tree;
        public bool Ready { get; set; }
        public string? Cursor { get; set; }
    }
}

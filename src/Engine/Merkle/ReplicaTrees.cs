using Meteora.Engine.Ring;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Merkle;

/// <summary>
/// The Merkle trees of every partition this node replicates, kept equal to the visible storage
/// state. After a start they are rebuilt from storage in bounded slices (never one long pause);
/// while a partition is rebuilding, writes to keys the scan has already passed update its tree and
/// later keys are left to the scan, so nothing is counted twice.
/// </summary>
internal sealed class ReplicaTrees
{
    private readonly SortedDictionary<int, PartitionTree> _trees = new();
    private readonly List<KeyValuePair<string, StoredValue>> _scratch = [];

    private readonly Repair.TombstoneLog _tombstones;

    public ReplicaTrees(ReplicaPlacement placement, int node, int depth, Repair.TombstoneLog tombstones)
    {
        _tombstones = tombstones;
        for (int p = 0; p < placement.PartitionCount; p++)
        {
            if (placement.IsReplica(p, node)) _trees.Add(p, new PartitionTree(new MerkleTree(depth, placement.PartitionCount)));
        }
        Depth = depth;
    }

    public int Depth { get; }

    public IEnumerable<int> Partitions => _trees.Keys;

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
        t.Tree.Replace(key, before, after?.Version);
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

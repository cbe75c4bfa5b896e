using Meteora.Engine.Merkle;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Replica;

/// <summary>
/// Invariant check of the incremental Merkle trees: when no disk operation of a partition is in
/// flight, its built tree must equal a tree recomputed from what storage holds (same entry count,
/// same root). One partition per call, round robin, so the cost is spread over many events.
/// </summary>
internal sealed class TreeAudit(IStorage storage, ReplicaTrees trees, int partitionCount)
{
    private const int ScanSliceEntries = 4096;

    private readonly List<KeyValuePair<string, StoredValue>> _slice = new(ScanSliceEntries);
    private int _next;

    public long PartitionsAudited { get; private set; }

    public void CheckNext(InFlightOps inFlight)
    {
        for (int tried = 0; tried < partitionCount; tried++)
        {
            int partition = _next;
            _next = (_next + 1) % partitionCount;
            MerkleTree? tree = trees.Ready(partition);
            if (tree is null || inFlight.AnyInPartition(partition)) continue;
            Audit(partition, tree);
            return;
        }
    }

    private void Audit(int partition, MerkleTree tree)
    {
        var fresh = new MerkleTree(tree.Depth, partitionCount);
        string? after = null;
        while (true)
        {
            _slice.Clear();
            int n = storage.Scan(partition, TokenRange.All, after, _slice, ScanSliceEntries);
            foreach (var (key, value) in _slice) fresh.Add(key, value.Version);
            if (n < ScanSliceEntries) break;
            after = _slice[^1].Key;
        }
        PartitionsAudited++;
        if (fresh.EntryCount != tree.EntryCount || fresh.Root != tree.Root)
        {
            throw new InvalidOperationException(
                $"Merkle tree of partition {partition} counts {tree.EntryCount} entries (root {tree.Root:x32}) but storage holds {fresh.EntryCount} (root {fresh.Root:x32})");
        }
    }
}

using Meteora.Engine.Merkle;
using Meteora.Engine.Storage;

namespace Meteora.Engine.Replica;

/// <summary>
/// Invariant check of the incremental Merkle trees: when no disk operation of a partition is in
/// flight, its built tree must equal a tree recomputed from what storage holds (same entry count,
/// same root). One partition per call, round robin, so the cost is spread over many events.
/// </summary>
internal sealed class TreeAudit(IStorage storage, ReplicaTrees trees, int partitionCount)
{
    private int _next;

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
        foreach (var (key, value) in StorageScan.Entries(storage, partition, TokenRange.All)) fresh.Add(key, value.Version);
        if (fresh.EntryCount != tree.EntryCount || fresh.Root != tree.Root)
        {
            throw new InvalidOperationException(
                $"Merkle tree of partition {partition} counts {tree.EntryCount} entries (root {tree.Root:x32}) but storage holds {fresh.EntryCount} (root {fresh.Root:x32})");
        }
    }
}

using Meteora.Engine.Merkle;
using Meteora.Engine.Protocol;
using Meteora.Engine.Replica;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>Answers a peer's repair requests (tree hashes, leaf entries, pulls) from this node's replica store, within the reply budget.</summary>
internal sealed class RepairResponder(ReplicaStore store, RepairOptions options)
{
    public MerkleHashesReply AnswerHashes(MerkleHashesRequest request)
    {
        MerkleTree? tree = store.Trees.Ready(request.Partition);
        if (tree is null || tree.Depth != request.Depth) return new MerkleHashesReply(request.RequestId, false, []);
        var hashes = new UInt128[request.Nodes.Length];
        for (int i = 0; i < hashes.Length; i++)
        {
            int node = request.Nodes[i];
            if (node < 1 || node >= 2 * tree.LeafCount) return new MerkleHashesReply(request.RequestId, false, []);
            hashes[i] = tree.NodeHash(node);
        }
        return new MerkleHashesReply(request.RequestId, true, hashes);
    }

    public LeafEntriesReply AnswerEntries(LeafEntriesRequest request)
    {
        MerkleTree? tree = store.Trees.Ready(request.Partition);
        if (tree is null || tree.Depth != request.Depth || request.Leaves.Length == 0)
        {
            return new LeafEntriesReply(request.RequestId, false, 0, []);
        }
        foreach (int leaf in request.Leaves)
        {
            if (leaf >= tree.LeafCount) return new LeafEntriesReply(request.RequestId, false, 0, []);
        }
        var byLeaf = store.EntriesByLeaf(request.Partition, tree, request.Leaves);
        var entries = new List<LeafEntry>();
        int covered = 0;
        long sizeBytes = 0;
        foreach (int leaf in request.Leaves)
        {
            long leafBytes = 0;
            foreach (LeafEntry e in byLeaf[leaf]) leafBytes += 2 + System.Text.Encoding.UTF8.GetByteCount(e.Key) + 12;
            if (covered > 0 && sizeBytes + leafBytes > options.ReplyBudgetBytes) break;
            entries.AddRange(byLeaf[leaf]);
            sizeBytes += leafBytes;
            covered++;
        }
        return new LeafEntriesReply(request.RequestId, true, covered, [.. entries]);
    }

    public RepairPullReply AnswerPull(RepairPullRequest request)
    {
        var items = new List<RepairItem>();
        int covered = 0;
        long sizeBytes = 0;
        foreach (string key in request.Keys)
        {
            if (store.Read(request.Partition, key) is { } value)
            {
                long itemBytes = 2 + System.Text.Encoding.UTF8.GetByteCount(key) + 12 + 4 + (value.Value?.Length ?? 0);
                if (covered > 0 && sizeBytes + itemBytes > options.ReplyBudgetBytes) break;
                items.Add(new RepairItem(key, value.Version, value.Value));
                sizeBytes += itemBytes;
            }
            covered++;
        }
        return new RepairPullReply(request.RequestId, covered, [.. items]);
    }
}

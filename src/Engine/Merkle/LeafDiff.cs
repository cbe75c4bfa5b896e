using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Merkle;

/// <summary>One (key, version) entry as exchanged for a differing leaf.</summary>
public readonly record struct LeafEntry(string Key, WriteVersion Version);

/// <summary>
/// The pure part of an exchange: given both sides' entries of the same differing leaves, which keys
/// must travel which way. Each key goes to the side whose version is older or missing.
/// </summary>
public static class LeafDiff
{
    /// <summary>
    /// The (key, version) entries of the given leaves of one partition replica, by leaf. The store is
    /// ordered by token (<see cref="StorageOrder"/>), so each leaf is one contiguous range
    /// (<see cref="MerkleTree.LeafRange"/>): this scans those ranges (in slices), never the rest of
    /// the partition.
    /// </summary>
    public static Dictionary<int, List<LeafEntry>> EntriesByLeaf(IStorage storage, int partition, MerkleTree tree, IEnumerable<int> leaves)
    {
        var byLeaf = new Dictionary<int, List<LeafEntry>>();
        foreach (int leaf in leaves)
        {
            if (byLeaf.ContainsKey(leaf)) continue;
            var entries = new List<LeafEntry>();
            byLeaf[leaf] = entries;
            foreach (var (key, value) in StorageScan.Entries(storage, partition, tree.LeafRange(partition, leaf)))
            {
                entries.Add(new LeafEntry(key, value.Version));
            }
        }
        return byLeaf;
    }

    public static (List<string> Push, List<string> Pull) Compare(IReadOnlyList<LeafEntry> local, IReadOnlyList<LeafEntry> remote)
    {
        var remoteByKey = new Dictionary<string, WriteVersion>(remote.Count, StringComparer.Ordinal);
        foreach (LeafEntry e in remote) remoteByKey[e.Key] = e.Version;
        var push = new List<string>();
        var pull = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (LeafEntry e in local)
        {
            seen.Add(e.Key);
            if (!remoteByKey.TryGetValue(e.Key, out WriteVersion theirs) || theirs < e.Version) push.Add(e.Key);
            else if (theirs > e.Version) pull.Add(e.Key);
        }
        foreach (LeafEntry e in remote)
        {
            if (!seen.Contains(e.Key)) pull.Add(e.Key);
        }
        push.Sort(StringComparer.Ordinal);
        pull.Sort(StringComparer.Ordinal);
        return (push, pull);
    }

}

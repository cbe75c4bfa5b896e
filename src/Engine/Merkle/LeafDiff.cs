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
    /// <summary>Scan slice used when collecting a partition's entries.</summary>
    private const int ScanSliceEntries = 4096;

    /// <summary>
    /// The (key, version) entries of the given leaves of one partition replica, by leaf. The store is
    /// ordered by key, not by leaf, so this scans the partition (in slices).
    /// </summary>
    public static Dictionary<int, List<LeafEntry>> EntriesByLeaf(IStorage storage, int partition, MerkleTree tree, IEnumerable<int> leaves)
    {
        var byLeaf = new Dictionary<int, List<LeafEntry>>();
        foreach (int leaf in leaves) byLeaf[leaf] = [];
        var slice = new List<KeyValuePair<string, StoredValue>>(ScanSliceEntries);
        string? after = null;
        while (true)
        {
            slice.Clear();
            int n = storage.Scan(partition, TokenRange.All, after, slice, ScanSliceEntries);
            foreach (var (key, value) in slice)
            {
                if (byLeaf.TryGetValue(tree.LeafOf(key), out var list)) list.Add(new LeafEntry(key, value.Version));
            }
            if (n < ScanSliceEntries) return byLeaf;
            after = slice[^1].Key;
        }
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

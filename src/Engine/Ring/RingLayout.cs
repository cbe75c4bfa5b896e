using System.Numerics;

namespace Meteora.Engine.Ring;

/// <summary>
/// Partition ownership under Dynamo strategy 3 (DeCandia et al., SOSP'07, section 6.2): the ring is
/// cut into Q equal partitions and every node owns ⌊Q/S⌋ or ⌈Q/S⌉ of them.
///
/// <see cref="Create"/> is a pure function of (Q, node set): partition p belongs to the
/// (p mod S)-th node in ascending id order, which also balances replica load exactly when S divides Q.
/// A running ring changes only through <see cref="WithNodeAdded"/> and <see cref="WithNodeRemoved"/>,
/// which move only partitions that must move (to the joining node, or off the leaving node) and keep
/// the ⌊Q/S⌋..⌈Q/S⌉ balance. Immutable.
/// </summary>
public sealed class RingLayout : IEquatable<RingLayout>
{
    private readonly int[] _ownerByPartition;
    private readonly int[] _nodes;

    private RingLayout(int partitionCount, int[] ownerByPartition, int[] sortedNodes)
    {
        PartitionCount = partitionCount;
        _ownerByPartition = ownerByPartition;
        _nodes = sortedNodes;
    }

    public int PartitionCount { get; }

    /// <summary>Member node ids in ascending order.</summary>
    public ReadOnlySpan<int> Nodes => _nodes;

    public int NodeCount => _nodes.Length;

    public int OwnerOf(int partition)
    {
        if ((uint)partition >= (uint)PartitionCount)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition, $"partition must be in 0..{PartitionCount - 1}");
        }
        return _ownerByPartition[partition];
    }

    public ReadOnlySpan<int> Owners => _ownerByPartition;

    public bool Contains(int node) => Array.BinarySearch(_nodes, node) >= 0;

    public int PartitionsOwnedBy(int node)
    {
        int count = 0;
        foreach (int owner in _ownerByPartition)
        {
            if (owner == node) count++;
        }
        return count;
    }

    public static void RequirePowerOfTwo(int partitionCount)
    {
        if (partitionCount < 1 || partitionCount > Limits.MaxPartitions || !BitOperations.IsPow2(partitionCount)) ThrowNotPowerOfTwo(partitionCount);

        // The message in its own method: its builder's locals cost every call a larger frame (issue 11).
        static void ThrowNotPowerOfTwo(int partitionCount) =>
            throw new ArgumentOutOfRangeException(nameof(partitionCount), partitionCount,
                $"partition count must be a power of two in 1..{Limits.MaxPartitions}");
    }

    /// <summary>The canonical layout for a node set: partition p → the (p mod S)-th smallest node id.</summary>
    public static RingLayout Create(int partitionCount, IEnumerable<int> nodes)
    {
        RequirePowerOfTwo(partitionCount);
        int[] sorted = SortedDistinct(nodes);
        if (sorted.Length == 0)
        {
            throw new ArgumentException("a ring needs at least one node", nameof(nodes));
        }
        RequireEnoughPartitions(partitionCount, sorted.Length);
        var owners = new int[partitionCount];
        for (int p = 0; p < partitionCount; p++)
        {
            owners[p] = sorted[p % sorted.Length];
        }
        return new RingLayout(partitionCount, owners, sorted);
    }

    /// <summary>Rebuilds a layout from an explicit owner table (e.g. loaded from disk), checking it.</summary>
    public static RingLayout FromOwners(int partitionCount, int[] ownerByPartition)
    {
        RequirePowerOfTwo(partitionCount);
        ArgumentNullException.ThrowIfNull(ownerByPartition);
        if (ownerByPartition.Length != partitionCount)
        {
            throw new ArgumentException($"owner table has {ownerByPartition.Length} entries, expected {partitionCount}");
        }
        int[] sorted = SortedDistinct(ownerByPartition);
        RequireEnoughPartitions(partitionCount, sorted.Length);
        return new RingLayout(partitionCount, (int[])ownerByPartition.Clone(), sorted);
    }

    /// <summary>
    /// Adds <paramref name="node"/>: it takes ⌊Q/(S+1)⌋ partitions, each taken from the currently
    /// most-loaded node; among that node's partitions it takes the one ranking highest for the
    /// newcomer by rendezvous score, which spreads its partitions around the ring.
    /// No partition moves between two old nodes.
    /// </summary>
    public RingLayout WithNodeAdded(int node)
    {
        RequireNodeId(node);
        if (Contains(node))
        {
            throw new ArgumentException($"node {node} is already in the ring", nameof(node));
        }
        if (_nodes.Length + 1 > Limits.MaxNodes)
        {
            throw new InvalidOperationException($"ring is full ({Limits.MaxNodes} nodes)");
        }
        int[] owners = (int[])_ownerByPartition.Clone();
        int[] sortedNew = SortedDistinct([.. _nodes, node]);
        RequireEnoughPartitions(PartitionCount, sortedNew.Length);
        int take = PartitionCount / sortedNew.Length;
        var load = LoadByNode(owners, _nodes);
        for (int taken = 0; taken < take; taken++)
        {
            int donor = MostLoaded(load);
            int best = -1;
            ulong bestScore = 0;
            for (int p = 0; p < owners.Length; p++)
            {
                if (owners[p] != donor) continue;
                ulong score = RendezvousScore(p, node);
                if (best < 0 || score > bestScore)
                {
                    best = p;
                    bestScore = score;
                }
            }
            owners[best] = node;
            load[donor]--;
        }
        return new RingLayout(PartitionCount, owners, sortedNew);
    }

    /// <summary>
    /// Removes <paramref name="node"/>: each of its partitions goes to the currently least-loaded
    /// remaining node (ties broken by rendezvous score). No other partition moves.
    /// </summary>
    public RingLayout WithNodeRemoved(int node)
    {
        if (!Contains(node))
        {
            throw new ArgumentException($"node {node} is not in the ring", nameof(node));
        }
        if (_nodes.Length == 1)
        {
            throw new InvalidOperationException("cannot remove the last node of a ring");
        }
        int[] remaining = Array.FindAll(_nodes, n => n != node);
        int[] owners = (int[])_ownerByPartition.Clone();
        var load = LoadByNode(owners, remaining);
        for (int p = 0; p < owners.Length; p++)
        {
            if (owners[p] != node) continue;
            int target = -1;
            for (int i = 0; i < remaining.Length; i++)
            {
                int candidate = remaining[i];
                if (target < 0 || load[candidate] < load[target]
                    || (load[candidate] == load[target] && RendezvousScore(p, candidate) > RendezvousScore(p, target)))
                {
                    target = candidate;
                }
            }
            owners[p] = target;
            load[target]++;
        }
        return new RingLayout(PartitionCount, owners, remaining);
    }

    public bool Equals(RingLayout? other) =>
        other is not null && PartitionCount == other.PartitionCount
        && _ownerByPartition.AsSpan().SequenceEqual(other._ownerByPartition);

    public override bool Equals(object? obj) => Equals(obj as RingLayout);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int owner in _ownerByPartition) hash.Add(owner);
        return hash.ToHashCode();
    }

    /// <summary>A fixed 64-bit mix of (partition, node): deterministic across processes and runs.</summary>
    internal static ulong RendezvousScore(int partition, int node)
    {
        ulong x = ((ulong)(uint)partition << 32) | (uint)node;
        // splitmix64 finalizer (Steele, Lea, Flood: "Fast splittable pseudorandom number generators").
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Every node must own at least one partition, or it could never be a replica.</summary>
    private static void RequireEnoughPartitions(int partitionCount, int nodeCount)
    {
        if (partitionCount < nodeCount)
        {
            throw new ArgumentException($"{nodeCount} nodes need at least {nodeCount} partitions, but the ring has {partitionCount}");
        }
    }

    private static void RequireNodeId(int node)
    {
        if (node < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(node), node, "node ids are non-negative");
        }
    }

    private static int[] SortedDistinct(IEnumerable<int> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var set = new SortedSet<int>();
        foreach (int node in nodes)
        {
            RequireNodeId(node);
            set.Add(node);
        }
        if (set.Count > Limits.MaxNodes)
        {
            throw new ArgumentException($"a ring holds at most {Limits.MaxNodes} nodes, got {set.Count}", nameof(nodes));
        }
        return [.. set];
    }

    private static SortedDictionary<int, int> LoadByNode(int[] owners, ReadOnlySpan<int> nodes)
    {
        var load = new SortedDictionary<int, int>();
        foreach (int node in nodes) load[node] = 0;
        foreach (int owner in owners)
        {
            if (load.TryGetValue(owner, out int count)) load[owner] = count + 1;
        }
        return load;
    }

    private static int MostLoaded(SortedDictionary<int, int> load)
    {
        int best = -1;
        int bestLoad = -1;
        foreach (var (node, count) in load)
        {
            if (count > bestLoad)
            {
                best = node;
                bestLoad = count;
            }
        }
        return best;
    }
}

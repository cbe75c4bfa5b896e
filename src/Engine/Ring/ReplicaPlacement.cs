namespace Meteora.Engine.Ring;

/// <summary>
/// Preference lists for a ring layout and replication factor N: for partition p, walk partitions
/// clockwise from p and take the first min(N, S) distinct owners (Dynamo, section 4.3).
/// Precomputed once per layout, so a request only indexes an array.
/// </summary>
public sealed class ReplicaPlacement
{
    private readonly int[][] _preferenceLists;
    private readonly int[][] _fallbackLists;

    public ReplicaPlacement(RingLayout layout, int replicationFactor)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (replicationFactor < 1 || replicationFactor > Limits.MaxReplicationFactor)
        {
            throw new ArgumentOutOfRangeException(nameof(replicationFactor), replicationFactor,
                $"replication factor must be in 1..{Limits.MaxReplicationFactor}");
        }
        Layout = layout;
        ReplicationFactor = replicationFactor;
        EffectiveReplicas = Math.Min(replicationFactor, layout.NodeCount);
        _preferenceLists = new int[layout.PartitionCount][];
        _fallbackLists = new int[layout.PartitionCount][];
        // Up to N fallbacks: enough to stand in for every primary, and Q x 2N ints at most.
        int walked = Math.Min(layout.NodeCount, EffectiveReplicas * 2);
        for (int p = 0; p < layout.PartitionCount; p++)
        {
            int[] nodes = Walk(layout, p, walked);
            _preferenceLists[p] = nodes[..EffectiveReplicas];
            _fallbackLists[p] = nodes[EffectiveReplicas..];
        }
    }

    public RingLayout Layout { get; }

    /// <summary>The configured N.</summary>
    public int ReplicationFactor { get; }

    /// <summary>min(N, S): how many replicas every key really has.</summary>
    public int EffectiveReplicas { get; }

    public int PartitionCount => Layout.PartitionCount;

    public ReadOnlySpan<int> PreferenceList(int partition)
    {
        if ((uint)partition >= (uint)_preferenceLists.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition, $"partition must be in 0..{_preferenceLists.Length - 1}");
        }
        return _preferenceLists[partition];
    }

    /// <summary>The precomputed list itself, for engine code that only reads it (no copy per request).</summary>
    internal int[] PreferenceArray(int partition)
    {
        PreferenceList(partition); // bounds check with its message
        return _preferenceLists[partition];
    }

    /// <summary>
    /// The nodes after the first N on the walk clockwise from the partition, in walk order (Dynamo
    /// section 4.6): where a sloppy quorum sends a write, with a hint, when a primary is down. At most
    /// N; empty when the ring has no more than N nodes.
    /// </summary>
    public ReadOnlySpan<int> FallbackList(int partition)
    {
        PreferenceList(partition); // bounds check with its message
        return _fallbackLists[partition];
    }

    internal int[] FallbackArray(int partition)
    {
        PreferenceList(partition);
        return _fallbackLists[partition];
    }

    public bool IsReplica(int partition, int node) => PreferenceList(partition).Contains(node);

    /// <summary>How many partitions each node is a replica of, in ascending node id order.</summary>
    public ReplicaLoad ReplicaLoad()
    {
        var nodes = Layout.Nodes.ToArray();
        var counts = new int[nodes.Length];
        foreach (int[] list in _preferenceLists)
        {
            foreach (int node in list)
            {
                counts[Array.BinarySearch(nodes, node)]++;
            }
        }
        return new ReplicaLoad(nodes, counts);
    }

    private static int[] Walk(RingLayout layout, int start, int count)
    {
        var list = new int[count];
        int found = 0;
        int q = layout.PartitionCount;
        for (int step = 0; step < q && found < count; step++)
        {
            int owner = layout.OwnerOf((start + step) % q);
            if (Array.IndexOf(list, owner, 0, found) < 0)
            {
                list[found++] = owner;
            }
        }
        if (found != count)
        {
            throw new InvalidOperationException($"ring has fewer than {count} distinct owners");
        }
        return list;
    }
}

/// <summary>Replica load per node and its spread: the ring's balance report.</summary>
public sealed record ReplicaLoad(int[] Nodes, int[] PartitionsReplicated)
{
    public int Min => PartitionsReplicated.Min();
    public int Max => PartitionsReplicated.Max();
    public double Mean => PartitionsReplicated.Average();

    /// <summary>Max over mean: 1.0 is perfect balance.</summary>
    public double Imbalance => Mean == 0 ? 1.0 : Max / Mean;

    public override string ToString()
    {
        var parts = new string[Nodes.Length];
        for (int i = 0; i < Nodes.Length; i++) parts[i] = $"{Nodes[i]}:{PartitionsReplicated[i]}";
        return $"replica load min={Min} max={Max} mean={Mean:F1} max/mean={Imbalance:F3} [{string.Join(' ', parts)}]";
    }
}

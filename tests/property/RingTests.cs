using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Ring;

namespace Meteora.Tests.Property;

public sealed class RingTests
{
    public static Arbitrary<(int Q, int[] Nodes)> Rings() =>
        (from log2q in Gen.Choose(0, 10)
         from count in Gen.Choose(1, 40)
         from ids in Gen.ListOf(Gen.Choose(0, 10_000), count)
         let distinct = ids.Distinct().Take(1 << log2q).ToArray()
         where distinct.Length > 0
         select (1 << log2q, distinct)).ToArbitrary();

    private static void AssertBalanced(RingLayout layout)
    {
        int q = layout.PartitionCount;
        int s = layout.NodeCount;
        foreach (int node in layout.Nodes.ToArray())
        {
            int owned = layout.PartitionsOwnedBy(node);
            Assert.InRange(owned, q / s, (q + s - 1) / s);
        }
        foreach (int owner in layout.Owners) Assert.True(layout.Contains(owner));
    }

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 200)]
    public void Every_node_owns_floor_or_ceil_of_Q_over_S((int Q, int[] Nodes) ring) =>
        AssertBalanced(RingLayout.Create(ring.Q, ring.Nodes));

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 200)]
    public void Create_is_a_function_of_the_node_set((int Q, int[] Nodes) ring)
    {
        var shuffled = ring.Nodes.Reverse().Concat(ring.Nodes).ToArray();
        Assert.Equal(RingLayout.Create(ring.Q, ring.Nodes), RingLayout.Create(ring.Q, shuffled));
    }

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 200)]
    public void Preference_lists_hold_min_N_S_distinct_nodes_starting_at_the_owner((int Q, int[] Nodes) ring)
    {
        var layout = RingLayout.Create(ring.Q, ring.Nodes);
        for (int n = 1; n <= 5; n++)
        {
            var placement = new ReplicaPlacement(layout, n);
            for (int p = 0; p < ring.Q; p++)
            {
                int[] list = placement.PreferenceList(p).ToArray();
                Assert.Equal(Math.Min(n, layout.NodeCount), list.Length);
                Assert.Equal(list.Length, list.Distinct().Count());
                Assert.Equal(layout.OwnerOf(p), list[0]);
            }
        }
    }

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 200)]
    public void Join_moves_partitions_only_to_the_new_node_and_stays_balanced((int Q, int[] Nodes) ring, PositiveInt newcomer)
    {
        if (ring.Nodes.Length == ring.Q) return; // no partition left for a newcomer
        var before = RingLayout.Create(ring.Q, ring.Nodes);
        int added = 20_000 + newcomer.Get;
        var after = before.WithNodeAdded(added);
        AssertBalanced(after);
        int moved = 0;
        for (int p = 0; p < ring.Q; p++)
        {
            if (before.OwnerOf(p) == after.OwnerOf(p)) continue;
            Assert.Equal(added, after.OwnerOf(p));
            moved++;
        }
        // Exactly the minimum: the newcomer needs ⌊Q/(S+1)⌋ partitions and gets no more.
        Assert.Equal(ring.Q / (ring.Nodes.Length + 1), moved);
    }

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 200)]
    public void Leave_moves_only_the_leavers_partitions_and_stays_balanced((int Q, int[] Nodes) ring, NonNegativeInt pick)
    {
        if (ring.Nodes.Length < 2) return;
        var before = RingLayout.Create(ring.Q, ring.Nodes);
        int leaving = ring.Nodes[pick.Get % ring.Nodes.Length];
        var after = before.WithNodeRemoved(leaving);
        AssertBalanced(after);
        Assert.False(after.Contains(leaving));
        for (int p = 0; p < ring.Q; p++)
        {
            if (before.OwnerOf(p) != leaving) Assert.Equal(before.OwnerOf(p), after.OwnerOf(p));
        }
    }

    [Property(Arbitrary = [typeof(RingTests)], MaxTest = 100)]
    public void A_sequence_of_joins_and_leaves_keeps_the_ring_balanced((int Q, int[] Nodes) ring, int[] steps)
    {
        var layout = RingLayout.Create(ring.Q, ring.Nodes);
        int nextId = 50_000;
        foreach (int step in steps.Take(20))
        {
            if ((step % 2 == 0 || layout.NodeCount == 1) && layout.NodeCount < ring.Q) layout = layout.WithNodeAdded(nextId++);
            else if (layout.NodeCount > 1) layout = layout.WithNodeRemoved(layout.Nodes[Math.Abs(step % layout.NodeCount)]);
            AssertBalanced(layout);
        }
    }

    [Fact]
    public void Replica_load_is_perfect_when_S_divides_Q()
    {
        var placement = new ReplicaPlacement(RingLayout.Create(64, [0, 1, 2, 3]), 3);
        ReplicaLoad load = placement.ReplicaLoad();
        Assert.All(load.PartitionsReplicated, count => Assert.Equal(48, count));
        Assert.Equal(1.0, load.Imbalance);
    }

    [Fact]
    public void Replica_load_report_counts_every_replica()
    {
        var placement = new ReplicaPlacement(RingLayout.Create(64, [0, 1, 2, 3, 4]), 3);
        ReplicaLoad load = placement.ReplicaLoad();
        Assert.Equal(64 * 3, load.PartitionsReplicated.Sum());
        Assert.True(load.Max - load.Min <= 3, load.ToString());
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Create(48, [1, 2]));
        Assert.Throws<ArgumentException>(() => RingLayout.Create(64, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => RingLayout.Create(64, [-1]));
        var layout = RingLayout.Create(64, [1, 2]);
        Assert.Throws<ArgumentException>(() => layout.WithNodeAdded(1));
        Assert.Throws<ArgumentException>(() => layout.WithNodeRemoved(7));
        Assert.Throws<InvalidOperationException>(() => RingLayout.Create(64, [1]).WithNodeRemoved(1));
        var e = Assert.Throws<ArgumentException>(() => RingLayout.Create(2, [1, 2, 3]));
        Assert.Contains("3 nodes need at least 3 partitions", e.Message);
        Assert.Throws<ArgumentException>(() => RingLayout.Create(2, [1, 2]).WithNodeAdded(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicaPlacement(layout, 0));
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;

namespace Meteora.Tests.Property;

/// <summary>
/// The claimant's ring transitions under random sequences of joins, leaves and removes (Riak's claim
/// test invariants): after every step the preference lists hold min(N, S) distinct nodes, owned
/// partitions per node differ by at most one, versions only grow, and the state survives its codec.
/// </summary>
public sealed class RingStateTests
{
    public static Arbitrary<(int Q, int N, int Nodes, int[] Steps)> Scenarios() =>
        (from log2q in Gen.Choose(2, 8)
         from n in Gen.Choose(1, 5)
         from nodes in Gen.Choose(1, 8)
         from steps in Gen.ArrayOf(Gen.Choose(0, 1_000_000)).Resize(30)
         where nodes <= 1 << log2q
         select (1 << log2q, n, nodes, steps)).ToArbitrary();

    private static RingState Initial(int q, int n, int nodes) =>
        RingState.Initial(q, n, Enumerable.Range(0, nodes).Select(i => (i * 10, $"10.0.0.{i}:7000")));

    [Property(Arbitrary = [typeof(RingStateTests)], MaxTest = 150)]
    public void Random_changes_keep_the_claim_invariants((int Q, int N, int Nodes, int[] Steps) s)
    {
        RingState ring = Initial(s.Q, s.N, s.Nodes);
        int nextId = 1_000;
        foreach (int step in s.Steps)
        {
            long before = ring.Version;
            RingChange change = PickChange(ring, step, ref nextId);
            RingProposal proposal = RingTransitions.Propose(ring, change, $"10.1.0.{change.Node % 250}:7000", force: step % 3 == 0, isUp: node => step % 2 == 0);
            if (proposal.Next is null)
            {
                Assert.False(string.IsNullOrWhiteSpace(proposal.Error));
                continue;
            }
            ring = proposal.Next;
            Assert.Equal(before + 1, ring.Version);
            AssertRoundTrips(ring);
            ring = step % 7 == 5 ? AbortPartway(ring, step) : FinishTransfers(ring, step);
            AssertClaimInvariants(ring);
        }
    }

    private static RingChange PickChange(RingState ring, int step, ref int nextId)
    {
        int[] normal = ring.Members.Where(m => m.Status == MemberStatus.Normal).Select(m => m.NodeId).ToArray();
        return (step % 4) switch
        {
            0 or 1 => new RingChange(RingChangeKind.Join, nextId++),
            2 => new RingChange(RingChangeKind.Leave, normal[step / 4 % normal.Length]),
            _ => new RingChange(RingChangeKind.Remove, normal[step / 4 % normal.Length]),
        };
    }

    /// <summary>Marks every pending transfer done in a step-dependent order, checking versions and the codec, then completes.</summary>
    private static RingState FinishTransfers(RingState ring, int step)
    {
        var pending = ring.PendingTransfers();
        var random = new Random(step);
        foreach (var (partition, node) in pending.OrderBy(_ => random.Next()))
        {
            long before = ring.Version;
            ring = RingTransitions.MarkTransferred(ring, partition, node);
            Assert.Equal(before + 1, ring.Version);
            Assert.DoesNotContain((partition, node), ring.PendingTransfers());
        }
        if (pending.Count > 0) AssertRoundTrips(ring);
        Assert.Empty(ring.PendingTransfers());
        long last = ring.Version;
        ring = RingTransitions.Complete(ring);
        Assert.Equal(last + 1, ring.Version);
        Assert.Null(ring.Change);
        Assert.All(ring.Members, m => Assert.Equal(MemberStatus.Normal, m.Status));
        return ring;
    }

    /// <summary>Marks some transfers done, then abandons the change: the current layout stays, the joiner goes, a leaver is normal again.</summary>
    private static RingState AbortPartway(RingState ring, int step)
    {
        RingLayout current = ring.Current;
        RingChange change = ring.Change!;
        var pending = ring.PendingTransfers();
        foreach (var (partition, node) in pending.Take(pending.Count / 2)) ring = RingTransitions.MarkTransferred(ring, partition, node);
        long before = ring.Version;
        ring = RingTransitions.Abort(ring);
        Assert.Equal(before + 1, ring.Version);
        Assert.Null(ring.Change);
        Assert.Empty(ring.Done);
        Assert.Equal(current, ring.Current);
        if (change.Kind == RingChangeKind.Join) Assert.Null(ring.MemberOf(change.Node));
        else Assert.Equal(MemberStatus.Normal, ring.MemberOf(change.Node)!.Status);
        AssertRoundTrips(ring);
        Assert.Throws<InvalidOperationException>(() => RingTransitions.Abort(ring));
        return ring;
    }

    private static void AssertClaimInvariants(RingState ring)
    {
        RingLayout layout = ring.Current;
        int q = layout.PartitionCount, size = layout.NodeCount;
        int expected = Math.Min(ring.ReplicationFactor, size);
        for (int p = 0; p < q; p++)
        {
            int[] list = ring.CurrentPlacement.PreferenceList(p).ToArray();
            Assert.Equal(expected, list.Distinct().Count());
            Assert.Equal(expected, list.Length);
        }
        int[] owned = layout.Nodes.ToArray().Select(layout.PartitionsOwnedBy).ToArray();
        Assert.True(owned.Max() - owned.Min() <= 1, $"owned partitions {string.Join(",", owned)}");
        Assert.Equal(ring.Members.Select(m => m.NodeId).Order(), layout.Nodes.ToArray());
    }

    private static void AssertRoundTrips(RingState ring)
    {
        RingState copy = RingStateCodec.Decode(RingStateCodec.Encode(ring));
        Assert.Equal(ring.Version, copy.Version);
        Assert.Equal(ring.Claimant, copy.Claimant);
        Assert.Equal(ring.Members, copy.Members);
        Assert.Equal(ring.Current, copy.Current);
        Assert.Equal(ring.Target, copy.Target);
        Assert.Equal(ring.Change, copy.Change);
        Assert.Equal(ring.Done, copy.Done);
        Assert.Equal(RingStateCodec.Encode(ring), RingStateCodec.Encode(copy));
    }

    [Fact]
    public void One_change_at_a_time_and_clear_refusals()
    {
        RingState ring = Initial(16, 3, 4);
        RingState joining = RingTransitions.Propose(ring, new RingChange(RingChangeKind.Join, 99), "h:1", false, _ => true).Next!;
        RingProposal second = RingTransitions.Propose(joining, new RingChange(RingChangeKind.Leave, 10), null, false, _ => true);
        Assert.True(second.Conflict);
        Assert.Equal("a ring change is in progress: join of node 99", second.Error);
        Assert.Equal("node 10 is already a member of the ring",
            RingTransitions.Propose(ring, new RingChange(RingChangeKind.Join, 10), "h:1", false, _ => true).Error);
        Assert.Equal("node 30 is up; stop it first, make it leave, or remove it with force",
            RingTransitions.Propose(ring, new RingChange(RingChangeKind.Remove, 30), null, false, _ => true).Error);
        Assert.NotNull(RingTransitions.Propose(ring, new RingChange(RingChangeKind.Remove, 30), null, true, _ => true).Next);
        RingState three = Initial(16, 3, 3);
        Assert.Equal("cannot leave node 0: 2 nodes would remain, fewer than N=3",
            RingTransitions.Propose(three, new RingChange(RingChangeKind.Leave, 0), null, false, _ => true).Error);
        Assert.Throws<InvalidOperationException>(() => RingTransitions.Complete(joining));
    }

    [Fact]
    public void The_claimant_hands_over_when_it_leaves_and_versions_order_gossip()
    {
        RingState ring = Initial(16, 2, 4);
        RingState leaving = RingTransitions.Propose(ring, new RingChange(RingChangeKind.Leave, 0), null, false, _ => true).Next!;
        Assert.Equal(0, leaving.Claimant);
        RingState done = FinishTransfers(leaving, 7);
        Assert.Equal(10, done.Claimant);
        Assert.True(done.Supersedes(leaving));
        Assert.False(leaving.Supersedes(done));
        Assert.False(done.Supersedes(done));
    }

    [Fact]
    public void Corrupt_ring_states_are_protocol_errors()
    {
        byte[] good = RingStateCodec.Encode(Initial(8, 2, 3));
        for (int cut = 0; cut < good.Length; cut++)
        {
            Assert.Throws<ProtocolException>(() => RingStateCodec.Decode(good.AsSpan(0, cut)));
        }
        byte[] badOwner = (byte[])good.Clone();
        badOwner[^2] = 0x7f; // the last owner becomes a node that is not a member
        Assert.Throws<ProtocolException>(() => RingStateCodec.Decode(badOwner));
    }
}

using Meteora.Engine.Ring;

namespace Meteora.Engine.Membership;

/// <summary>The claimant's answer to a proposed change: the next state, or why not (Conflict: another change runs).</summary>
public sealed record RingProposal(RingState? Next, string? Error, bool Conflict)
{
    public static RingProposal Refused(string error, bool conflict = false) => new(null, error, conflict);
}

/// <summary>
/// The claimant's steps over <see cref="RingState"/>, all pure: propose one change, record a verified
/// transfer, complete the change once nothing is pending. Each step bumps the version by one.
/// </summary>
public static class RingTransitions
{
    /// <param name="isUp">The proposer's failure-detector view: removing a live node needs <paramref name="force"/>.</param>
    public static RingProposal Propose(RingState ring, RingChange change, string? peerAddress, bool force, Func<int, bool> isUp)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(isUp);
        if (ring.Change is { } running) return RingProposal.Refused($"a ring change is in progress: {running}", conflict: true);
        return change.Kind switch
        {
            RingChangeKind.Join => ProposeJoin(ring, change, peerAddress),
            RingChangeKind.Leave or RingChangeKind.Remove => ProposeDeparture(ring, change, force, isUp),
            _ => RingProposal.Refused($"unknown change kind {change.Kind}"),
        };
    }

    private static RingProposal ProposeJoin(RingState ring, RingChange change, string? peerAddress)
    {
        if (change.Node < 0) return RingProposal.Refused($"node ids are non-negative, got {change.Node}");
        if (ring.MemberOf(change.Node) is not null) return RingProposal.Refused($"node {change.Node} is already a member of the ring");
        if (string.IsNullOrWhiteSpace(peerAddress) || System.Text.Encoding.UTF8.GetByteCount(peerAddress) > Member.MaxPeerAddressBytes)
        {
            return RingProposal.Refused($"a joining node needs a peer address HOST:PORT of at most {Member.MaxPeerAddressBytes} bytes");
        }
        if (ring.Members.Count + 1 > Limits.MaxNodes) return RingProposal.Refused($"a ring holds at most {Limits.MaxNodes} nodes");
        if (ring.PartitionCount < ring.Members.Count + 1)
        {
            return RingProposal.Refused($"{ring.Members.Count + 1} nodes need at least as many partitions, the ring has {ring.PartitionCount}");
        }
        Member[] members = [.. ring.Members, new Member(change.Node, peerAddress, MemberStatus.Joining)];
        Array.Sort(members, (a, b) => a.NodeId.CompareTo(b.NodeId));
        RingLayout target = ring.Current.WithNodeAdded(change.Node);
        return new RingProposal(ring.With(ring.Version + 1, ring.Claimant, members, ring.Current, change, target, new()), null, false);
    }

    private static RingProposal ProposeDeparture(RingState ring, RingChange change, bool force, Func<int, bool> isUp)
    {
        string verb = change.Kind == RingChangeKind.Leave ? "leave" : "remove";
        if (ring.MemberOf(change.Node) is not { Status: MemberStatus.Normal })
        {
            return RingProposal.Refused($"node {change.Node} is not a normal member of the ring");
        }
        int remaining = ring.Current.NodeCount - 1;
        if (remaining < ring.ReplicationFactor)
        {
            return RingProposal.Refused($"cannot {verb} node {change.Node}: {remaining} nodes would remain, fewer than N={ring.ReplicationFactor}");
        }
        if (change.Kind == RingChangeKind.Remove && isUp(change.Node) && !force)
        {
            return RingProposal.Refused($"node {change.Node} is up; stop it first, make it leave, or remove it with force");
        }
        Member[] members = ring.MembersCopy();
        int index = Array.FindIndex(members, m => m.NodeId == change.Node);
        members[index] = members[index] with { Status = MemberStatus.Leaving };
        RingLayout target = ring.Current.WithNodeRemoved(change.Node);
        return new RingProposal(ring.With(ring.Version + 1, ring.Claimant, members, ring.Current, change, target, new()), null, false);
    }

    /// <summary>Records that <paramref name="node"/> verifiably holds <paramref name="partition"/>; a pair not pending is refused.</summary>
    public static RingState MarkTransferred(RingState ring, int partition, int node)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (ring.Change is null) throw new InvalidOperationException("no ring change is in progress");
        if (Array.IndexOf(ring.PendingReplicas(partition), node) < 0)
        {
            throw new InvalidOperationException($"node {node} is not a pending replica of partition {partition}");
        }
        SortedSet<(int, int)> done = ring.DoneCopy();
        if (!done.Add((partition, node))) return ring;
        return ring.With(ring.Version + 1, ring.Claimant, ring.MembersCopy(), ring.Current, ring.Change, ring.Target, done);
    }

    /// <summary>
    /// Abandons the running change without flipping: the current layout stays, a joining member is
    /// dropped (it asks to join again), a leaving member is normal again. Safe at any point: reads and
    /// quorums never used the target, and data already sent to pending replicas is handed off and
    /// dropped by them. Used when a pending replica is dead, so the change could never finish.
    /// </summary>
    public static RingState Abort(RingState ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (ring.Change is null) throw new InvalidOperationException("no ring change is in progress");
        var members = new List<Member>();
        foreach (Member member in ring.Members)
        {
            if (member.Status == MemberStatus.Joining) continue;
            members.Add(member with { Status = MemberStatus.Normal });
        }
        return ring.With(ring.Version + 1, ring.Claimant, [.. members], ring.Current, null, null, new());
    }

    /// <summary>Flips to the target layout once every transfer is verified: joiners become normal, departed members go.</summary>
    /// <param name="unverified">Planted bug flip-before-transfer only: flip with transfers still pending.</param>
    public static RingState Complete(RingState ring, bool unverified = false)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (ring.Change is null || ring.Target is null) throw new InvalidOperationException("no ring change is in progress");
        int pending = ring.PendingTransfers().Count;
        if (pending > 0 && !unverified) throw new InvalidOperationException($"{pending} transfers of the {ring.Change} are still pending");
        var members = new List<Member>();
        foreach (Member member in ring.Members)
        {
            if (member.Status == MemberStatus.Leaving) continue;
            members.Add(member with { Status = MemberStatus.Normal });
        }
        int claimant = members.Exists(m => m.NodeId == ring.Claimant) ? ring.Claimant : members[0].NodeId;
        return ring.With(ring.Version + 1, claimant, [.. members], ring.Target, null, null, new());
    }
}

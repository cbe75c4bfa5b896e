using Meteora.Engine.Ring;

namespace Meteora.Engine.Membership;

/// <summary>
/// The versioned ring every node holds, gossips and persists (docs/membership.md): members, the current
/// layout (reads and quorums), and while one change is in progress its target layout and the transfers
/// already finished. Immutable; every step returns a new state with a higher version. Pending transfers
/// are derived: for each partition, the target preference list's nodes that the current one lacks.
/// </summary>
public sealed class RingState
{
    private readonly Member[] _members;
    private readonly SortedSet<(int Partition, int Node)> _done;

    internal RingState(long version, int claimant, int replicationFactor, Member[] members, RingLayout current,
        RingChange? change, RingLayout? target, SortedSet<(int Partition, int Node)> done)
    {
        Version = version;
        Claimant = claimant;
        ReplicationFactor = replicationFactor;
        _members = members;
        Current = current;
        Change = change;
        Target = target;
        _done = done;
        CurrentPlacement = new ReplicaPlacement(current, replicationFactor);
        TargetPlacement = target is null ? null : new ReplicaPlacement(target, replicationFactor);
        CheckInvariants();
    }

    public long Version { get; }

    /// <summary>The member that orders changes (not re-chosen from liveness: see docs/membership.md).</summary>
    public int Claimant { get; }

    public int ReplicationFactor { get; }
    public int PartitionCount => Current.PartitionCount;
    public IReadOnlyList<Member> Members => _members;
    public RingLayout Current { get; }
    public ReplicaPlacement CurrentPlacement { get; }
    public RingChange? Change { get; }
    public RingLayout? Target { get; }
    public ReplicaPlacement? TargetPlacement { get; }

    /// <summary>Transfers of the running change already verified, ascending.</summary>
    public IReadOnlyCollection<(int Partition, int Node)> Done => _done;

    /// <summary>A ring of normal members with the canonical layout (version 1); the claimant is the lowest id.</summary>
    public static RingState Initial(int partitionCount, int replicationFactor, IEnumerable<(int NodeId, string PeerAddress)> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var list = new List<Member>();
        foreach (var (id, address) in members) list.Add(new Member(id, address, MemberStatus.Normal));
        list.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        var layout = RingLayout.Create(partitionCount, list.ConvertAll(m => m.NodeId));
        return new RingState(1, list[0].NodeId, replicationFactor, [.. list], layout, null, null, new());
    }

    /// <remarks>A loop, not <c>Array.FindIndex</c> with a lambda: the captured node cost a closure and a delegate on every call, and coordinators call this per request (issue 11, simulator allocation profile).</remarks>
    public Member? MemberOf(int node)
    {
        foreach (Member member in _members)
        {
            if (member.NodeId == node) return member;
        }
        return null;
    }

    /// <summary>
    /// True when this state should replace <paramref name="other"/>: a higher version, or at the same
    /// version the lower claimant id (only a forced claimant takeover can make two states share a version).
    /// </summary>
    public bool Supersedes(RingState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Supersedes(Version, Claimant, other.Version, other.Claimant);
    }

    /// <summary>The same order on (version, claimant) pairs, for digests that carry only those.</summary>
    public static bool Supersedes(long version, int claimant, long otherVersion, int otherClaimant) =>
        version != otherVersion ? version > otherVersion : claimant < otherClaimant;

    /// <summary>Every (partition, node) the running change waits for, ascending; empty when none runs.</summary>
    public List<(int Partition, int Node)> PendingTransfers()
    {
        var pending = new List<(int, int)>();
        if (TargetPlacement is null) return pending;
        for (int p = 0; p < PartitionCount; p++)
        {
            ReadOnlySpan<int> current = CurrentPlacement.PreferenceList(p);
            foreach (int node in TargetPlacement.PreferenceList(p))
            {
                if (!current.Contains(node) && !_done.Contains((p, node))) pending.Add((p, node));
            }
        }
        return pending;
    }

    /// <summary>Nodes that must receive partition <paramref name="partition"/> before the change can complete.</summary>
    public int[] PendingReplicas(int partition)
    {
        if (TargetPlacement is null) return [];
        ReadOnlySpan<int> current = CurrentPlacement.PreferenceList(partition);
        var result = new List<int>();
        foreach (int node in TargetPlacement.PreferenceList(partition))
        {
            if (!current.Contains(node)) result.Add(node);
        }
        return [.. result];
    }

    internal RingState With(long version, int claimant, Member[] members, RingLayout current, RingChange? change,
        RingLayout? target, SortedSet<(int, int)> done) =>
        new(version, claimant, ReplicationFactor, members, current, change, target, done);

    internal Member[] MembersCopy() => (Member[])_members.Clone();

    internal SortedSet<(int, int)> DoneCopy() => new(_done);

    public void CheckInvariants()
    {
        if (Version < 1) throw new InvalidOperationException($"ring version {Version} is not positive");
        if (_members.Length == 0) throw new InvalidOperationException("a ring has members");
        for (int i = 1; i < _members.Length; i++)
        {
            if (_members[i - 1].NodeId >= _members[i].NodeId) throw new InvalidOperationException("ring members are not sorted by id");
        }
        if (MemberOf(Claimant) is not { Status: MemberStatus.Normal or MemberStatus.Leaving })
        {
            throw new InvalidOperationException($"claimant {Claimant} is not a serving member");
        }
        if ((Change is null) != (Target is null)) throw new InvalidOperationException("a change and its target layout come together");
        if (Change is null && _done.Count > 0) throw new InvalidOperationException("finished transfers without a change");
        if (Target is not null && Target.PartitionCount != Current.PartitionCount) throw new InvalidOperationException("target layout has another Q");
        foreach (Member member in _members)
        {
            int addressBytes = string.IsNullOrWhiteSpace(member.PeerAddress) ? 0 : System.Text.Encoding.UTF8.GetByteCount(member.PeerAddress);
            if (addressBytes is 0 or > Member.MaxPeerAddressBytes)
            {
                throw new InvalidOperationException($"member {member.NodeId} needs a peer address of 1..{Member.MaxPeerAddressBytes} bytes");
            }
            bool inCurrent = Current.Contains(member.NodeId);
            if (member.Status == MemberStatus.Joining ? inCurrent : !inCurrent)
            {
                throw new InvalidOperationException($"member {member.NodeId} is {member.Status} but {(inCurrent ? "owns" : "does not own")} partitions");
            }
        }
        if (Current.NodeCount != _members.Count(m => m.Status != MemberStatus.Joining))
        {
            throw new InvalidOperationException("the current layout owns partitions for a node that is not a member");
        }
    }
}

namespace Meteora.Engine.Membership;

public enum MemberStatus : byte
{
    /// <summary>Receiving the partitions it will replicate; not yet a replica for reads or quorums.</summary>
    Joining = 1,
    /// <summary>A full member.</summary>
    Normal = 2,
    /// <summary>Handing its partitions to their new replicas; still serves until the change completes.</summary>
    Leaving = 3,
}

/// <summary>One ring member: its id, the address its peers dial (HOST:PORT), and its status.</summary>
public sealed record Member(int NodeId, string PeerAddress, MemberStatus Status)
{
    /// <summary>Addresses travel in gossip and on disk: bounded and plain.</summary>
    public const int MaxPeerAddressBytes = 256;
}

public enum RingChangeKind : byte
{
    Join = 1,
    Leave = 2,
    Remove = 3,
}

/// <summary>A membership change the claimant has accepted and not completed.</summary>
public sealed record RingChange(RingChangeKind Kind, int Node)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} of node {Node}";
}

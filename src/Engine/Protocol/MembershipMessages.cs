using Meteora.Engine.Membership;

namespace Meteora.Engine.Protocol;

/// <summary>
/// Member → claimant (directly, or through any member that relays it): apply this ring change. A join
/// carries the joiner's peer address and its Q and N, so the claimant can refuse a node configured for
/// another ring. <see cref="RequestId"/> is the sender's; the reply echoes it.
/// </summary>
public sealed record RingChangeRequest(long RequestId, RingChangeKind Change, int Node, bool Force, string PeerAddress,
    int PartitionCount, int ReplicationFactor) : Message
{
    public override MessageKind Kind => MessageKind.RingChangeRequest;
}

/// <summary>
/// Claimant (or a relaying member) → requester: the change was accepted (at ring <see cref="Version"/>) or
/// refused with <see cref="Error"/>; Conflict: another change runs; Retryable: nobody decided (see
/// <see cref="Membership.RingChangeOutcome"/>).
/// </summary>
public sealed record RingChangeReply(long RequestId, bool Ok, bool Conflict, long Version, string Error, bool Retryable = false) : Message
{
    /// <summary>Error texts travel bounded, like keys.</summary>
    public const int MaxErrorChars = 512;

    public override MessageKind Kind => MessageKind.RingChangeReply;
}

/// <summary>Pending replica → claimant: it verifiably holds <see cref="Partition"/> for the running change (identified by its kind and node).</summary>
public sealed record TransferDone(RingChangeKind ChangeKind, int ChangeNode, int Partition) : Message
{
    public override MessageKind Kind => MessageKind.TransferDone;
}

/// <summary>
/// Replica → coordinator: this node no longer serves the key's partition at ring <see cref="RingVersion"/>
/// (the coordinator's ring is older); the read counts as failed, never as "not found".
/// </summary>
public sealed record ReplicaRefused(long RequestId, long RingVersion) : Message
{
    public override MessageKind Kind => MessageKind.ReplicaRefused;
}

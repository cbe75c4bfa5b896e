using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>A peer-to-peer message. Every subtype has one binary encoding in <see cref="MessageCodec"/>.</summary>
public abstract record Message
{
    public abstract MessageKind Kind { get; }
}

public enum MessageKind : byte
{
    ReplicaWrite = 1,
    ReplicaWriteAck = 2,
    ReplicaRead = 3,
    ReplicaReadReply = 4,
    MerkleHashesRequest = 5,
    MerkleHashesReply = 6,
    LeafEntriesRequest = 7,
    LeafEntriesReply = 8,
    RepairPullRequest = 9,
    RepairPullReply = 10,
    ReadRepair = 11,
    RepairPush = 12,
    RepairPushAck = 13,
    Heartbeat = 14,
    RingDigest = 15,
    RingStateMessage = 16,
    RingChangeRequest = 17,
    RingChangeReply = 18,
    TransferDone = 19,
    ReplicaRefused = 20,
    HintedWrite = 21,
    HintedRead = 22,
    HintReplay = 23,
    HintReplayAck = 24,
}

/// <summary>
/// Coordinator → replica: store this version if it is newer (a null value is a tombstone) and ack
/// with <see cref="ReplicaWriteAck"/> once a write covering it is durable.
/// </summary>
public sealed record ReplicaWrite(long RequestId, string Key, WriteVersion Version, byte[]? Value) : Message
{
    public override MessageKind Kind => MessageKind.ReplicaWrite;

    public bool Equals(ReplicaWrite? other) =>
        other is not null && RequestId == other.RequestId && Key == other.Key && Version == other.Version
        && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(RequestId, Key, Version);
}

/// <summary>Replica → coordinator: the write is durable (Ok) or the replica could not persist it.</summary>
public sealed record ReplicaWriteAck(long RequestId, bool Ok) : Message
{
    public override MessageKind Kind => MessageKind.ReplicaWriteAck;
}

/// <summary>Coordinator → replica: what do you hold for this key?</summary>
public sealed record ReplicaRead(long RequestId, string Key) : Message
{
    public override MessageKind Kind => MessageKind.ReplicaRead;
}

/// <summary>Replica → coordinator. Found=false: no entry. Found with a null value: a tombstone.</summary>
public sealed record ReplicaReadReply(long RequestId, bool Found, WriteVersion Version, byte[]? Value) : Message
{
    public override MessageKind Kind => MessageKind.ReplicaReadReply;

    public StoredValue? AsStoredValue() => Found ? new StoredValue(Version, Value) : null;

    public bool Equals(ReplicaReadReply? other) =>
        other is not null && RequestId == other.RequestId && Found == other.Found && Version == other.Version
        && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(RequestId, Found, Version);
}

/// <summary>Coordinator → stale replica after a read: store this version if it is newer. Never acked.</summary>
public sealed record ReadRepair(string Key, WriteVersion Version, byte[]? Value) : Message
{
    public override MessageKind Kind => MessageKind.ReadRepair;

    public bool Equals(ReadRepair? other) =>
        other is not null && Key == other.Key && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(Key, Version);
}

/// <summary>
/// Node → every peer, each heartbeat interval: feeds the receiver's phi accrual detector, and carries
/// what the sender reports of itself (ring version, partitions, keys and bytes held, hints pending) for status pages
/// (so any member can show every member's figures, as `nodetool status` does). Never answered.
/// </summary>
public sealed record Heartbeat(long Sequence, long RingVersion = 0, int PartitionsHeld = 0, long KeysHeld = 0, long BytesHeld = 0, long HintsPending = 0) : Message
{
    public override MessageKind Kind => MessageKind.Heartbeat;
}

/// <summary>Gossip, node → random live peer: the ring version it holds. The peer answers with its state if newer, or its own digest if older.</summary>
public sealed record RingDigest(long Version, int Claimant) : Message
{
    public override MessageKind Kind => MessageKind.RingDigest;
}

/// <summary>Gossip: a whole ring state in <see cref="Membership.RingStateCodec"/> form (checked by the receiver before use).</summary>
public sealed record RingStateMessage(byte[] State) : Message
{
    public override MessageKind Kind => MessageKind.RingStateMessage;

    public bool Equals(RingStateMessage? other) => other is not null && State.AsSpan().SequenceEqual(other.State);

    public override int GetHashCode() => State.Length;
}

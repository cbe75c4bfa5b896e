using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>
/// Coordinator → fallback (a node past the key's first N): replica <see cref="Target"/> is down, keep
/// this write for it. The fallback acks with <see cref="ReplicaWriteAck"/> once the hint is durable
/// (or nacks when its hint bounds are full); the ack stands in for the target's.
/// </summary>
public sealed record HintedWrite(long RequestId, string Key, WriteVersion Version, byte[]? Value, int Target) : Message
{
    public override MessageKind Kind => MessageKind.HintedWrite;

    public bool Equals(HintedWrite? other) =>
        other is not null && RequestId == other.RequestId && Key == other.Key && Target == other.Target
        && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(RequestId, Key, Version, Target);
}

/// <summary>
/// Coordinator → fallback, for a sloppy read whose primary is down: what do you hold for this key in
/// your hints? Answered with <see cref="ReplicaReadReply"/> (not found when no hint holds the key).
/// </summary>
public sealed record HintedRead(long RequestId, string Key) : Message
{
    public override MessageKind Kind => MessageKind.HintedRead;
}

/// <summary>Fallback → owner (the hint's target, or a current replica when the ring moved the key): store this version if newer; ack once durable.</summary>
public sealed record HintReplay(long RequestId, string Key, WriteVersion Version, byte[]? Value) : Message
{
    public override MessageKind Kind => MessageKind.HintReplay;

    public bool Equals(HintReplay? other) =>
        other is not null && RequestId == other.RequestId && Key == other.Key
        && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(RequestId, Key, Version);
}

/// <summary>Owner → fallback: the replayed hint is durable here (or obsolete; the fallback may delete it), or was refused (Ok=false: try later).</summary>
public sealed record HintReplayAck(long RequestId, bool Ok) : Message
{
    public override MessageKind Kind => MessageKind.HintReplayAck;
}

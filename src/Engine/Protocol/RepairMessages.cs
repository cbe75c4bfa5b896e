using Meteora.Engine.Merkle;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>Anti-entropy: "send me the hashes of these tree nodes of your replica of this partition".</summary>
public sealed record MerkleHashesRequest(long RequestId, int Partition, int Depth, int[] Nodes) : Message
{
    public override MessageKind Kind => MessageKind.MerkleHashesRequest;
    public bool Equals(MerkleHashesRequest? o) =>
        o is not null && RequestId == o.RequestId && Partition == o.Partition && Depth == o.Depth && Nodes.AsSpan().SequenceEqual(o.Nodes);
    public override int GetHashCode() => HashCode.Combine(RequestId, Partition, Depth, Nodes.Length);
}

/// <summary>The hashes, in request order. Ready=false: this replica's tree is still being rebuilt (or differs in shape).</summary>
public sealed record MerkleHashesReply(long RequestId, bool Ready, UInt128[] Hashes) : Message
{
    public override MessageKind Kind => MessageKind.MerkleHashesReply;
    public bool Equals(MerkleHashesReply? o) =>
        o is not null && RequestId == o.RequestId && Ready == o.Ready && Hashes.AsSpan().SequenceEqual(o.Hashes);
    public override int GetHashCode() => HashCode.Combine(RequestId, Ready, Hashes.Length);
}

/// <summary>"Send me the (key, version) entries of these leaves."</summary>
public sealed record LeafEntriesRequest(long RequestId, int Partition, int Depth, int[] Leaves) : Message
{
    public override MessageKind Kind => MessageKind.LeafEntriesRequest;
    public bool Equals(LeafEntriesRequest? o) =>
        o is not null && RequestId == o.RequestId && Partition == o.Partition && Depth == o.Depth && Leaves.AsSpan().SequenceEqual(o.Leaves);
    public override int GetHashCode() => HashCode.Combine(RequestId, Partition, Depth, Leaves.Length);
}

/// <summary>Entries of the first <paramref name="LeavesCovered"/> requested leaves (the rest did not fit; ask again).</summary>
public sealed record LeafEntriesReply(long RequestId, bool Ready, int LeavesCovered, LeafEntry[] Entries) : Message
{
    public override MessageKind Kind => MessageKind.LeafEntriesReply;
    public bool Equals(LeafEntriesReply? o) =>
        o is not null && RequestId == o.RequestId && Ready == o.Ready && LeavesCovered == o.LeavesCovered && Entries.AsSpan().SequenceEqual(o.Entries);
    public override int GetHashCode() => HashCode.Combine(RequestId, Ready, LeavesCovered, Entries.Length);
}

/// <summary>"Send me your versions of these keys" (the ones where you are newer).</summary>
public sealed record RepairPullRequest(long RequestId, int Partition, string[] Keys) : Message
{
    public override MessageKind Kind => MessageKind.RepairPullRequest;
    public bool Equals(RepairPullRequest? o) =>
        o is not null && RequestId == o.RequestId && Partition == o.Partition && Keys.AsSpan().SequenceEqual(o.Keys);
    public override int GetHashCode() => HashCode.Combine(RequestId, Partition, Keys.Length);
}

/// <summary>One repaired entry: a value, or a tombstone (null value).</summary>
public sealed record RepairItem(string Key, WriteVersion Version, byte[]? Value)
{
    public bool Equals(RepairItem? o) =>
        o is not null && Key == o.Key && new StoredValue(Version, Value).Equals(new StoredValue(o.Version, o.Value));
    public override int GetHashCode() => HashCode.Combine(Key, Version);
}

/// <summary>Values for the first <paramref name="KeysCovered"/> requested keys (keys no longer held are skipped).</summary>
public sealed record RepairPullReply(long RequestId, int KeysCovered, RepairItem[] Items) : Message
{
    public override MessageKind Kind => MessageKind.RepairPullReply;
    public bool Equals(RepairPullReply? o) =>
        o is not null && RequestId == o.RequestId && KeysCovered == o.KeysCovered && Items.AsSpan().SequenceEqual(o.Items);
    public override int GetHashCode() => HashCode.Combine(RequestId, KeysCovered, Items.Length);
}

/// <summary>Anti-entropy → peer replica: store this version if it is newer; ack with <see cref="RepairPushAck"/> once durable.</summary>
public sealed record RepairPush(long RequestId, string Key, WriteVersion Version, byte[]? Value) : Message
{
    public override MessageKind Kind => MessageKind.RepairPush;

    public bool Equals(RepairPush? other) =>
        other is not null && RequestId == other.RequestId && Key == other.Key
        && new StoredValue(Version, Value).Equals(new StoredValue(other.Version, other.Value));

    public override int GetHashCode() => HashCode.Combine(RequestId, Key, Version);
}

/// <summary>The pushed version is durable on the peer (Ok), or the peer could not persist it.</summary>
public sealed record RepairPushAck(long RequestId, bool Ok) : Message
{
    public override MessageKind Kind => MessageKind.RepairPushAck;
}

using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>
/// The one binary encoding of every <see cref="Message"/>, used on the wire and round-tripped by the
/// simulator. Layout: kind (u8), then the fields in declaration order, big-endian:
/// i64 request ids, key = u16 length + UTF-8, version = i64 micros + u32 node,
/// value = i32 length (-1 for a tombstone) + bytes, bool = one byte 0 or 1.
/// Decoding rejects anything malformed with a <see cref="ProtocolException"/> naming the problem,
/// including trailing bytes, so a frame has exactly one meaning.
/// </summary>
public static class MessageCodec
{
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static int EncodedSize(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message switch
        {
            ReplicaWrite m => 1 + 8 + KeySize(m.Key) + VersionSize + ValueSize(m.Value),
            ReplicaWriteAck => 1 + 8 + 1,
            ReplicaRead m => 1 + 8 + KeySize(m.Key),
            ReplicaReadReply m => 1 + 8 + 1 + VersionSize + ValueSize(m.Value),
            MerkleHashesRequest m => 1 + 8 + 4 + 1 + IntArraySize(m.Nodes),
            MerkleHashesReply m => 1 + 8 + 1 + 4 + 16 * CountOf(m.Hashes.Length),
            LeafEntriesRequest m => 1 + 8 + 4 + 1 + IntArraySize(m.Leaves),
            LeafEntriesReply m => 1 + 8 + 1 + 4 + 4 + EntriesSize(m.Entries),
            RepairPullRequest m => 1 + 8 + 4 + 4 + KeysSize(m.Keys),
            RepairPullReply m => 1 + 8 + 4 + 4 + ItemsSize(m.Items),
            ReadRepair m => 1 + KeySize(m.Key) + VersionSize + ValueSize(m.Value),
            RepairPush m => 1 + 8 + KeySize(m.Key) + VersionSize + ValueSize(m.Value),
            RepairPushAck => 1 + 8 + 1,
            Heartbeat => 1 + 8 + 8 + 4 + 8 + 8 + 8,
            RingDigest => 1 + 8 + 4,
            RingStateMessage m => 1 + 4 + m.State.Length,
            RingChangeRequest m => 1 + 8 + 1 + 4 + 1 + KeySize(m.PeerAddress) + 4 + 4,
            RingChangeReply m => 1 + 8 + 1 + 1 + 8 + KeySize(m.Error) + 1,
            TransferDone => 1 + 1 + 4 + 4,
            ReplicaRefused => 1 + 8 + 8,
            HintedWrite m => 1 + 8 + KeySize(m.Key) + VersionSize + ValueSize(m.Value) + 4,
            HintedRead m => 1 + 8 + KeySize(m.Key),
            HintReplay m => 1 + 8 + KeySize(m.Key) + VersionSize + ValueSize(m.Value),
            HintReplayAck => 1 + 8 + 1,
            _ => throw new ArgumentException($"unknown message type {message.GetType().Name}", nameof(message)),
        };
    }

    public static byte[] Encode(Message message)
    {
        var buffer = new byte[EncodedSize(message)];
        int written = Encode(message, buffer);
        if (written != buffer.Length)
        {
            throw new InvalidOperationException($"codec wrote {written} bytes, expected {buffer.Length}");
        }
        return buffer;
    }

    /// <summary>Writes <paramref name="message"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(Message message, Span<byte> destination) => Encode(message, EncodedSize(message), destination);

    /// <summary>
    /// Writes <paramref name="message"/>, whose <see cref="EncodedSize"/> the caller already computed to size
    /// its buffer, without computing it again (the UTF-8 count of the key twice per message showed in the
    /// simulator's profile, issue 11). A size that is not the message's fails: the write stays inside it.
    /// </summary>
    public static int Encode(Message message, int encodedSize, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (encodedSize > Limits.MaxMessageSizeBytes)
        {
            throw new ArgumentException($"message is {encodedSize} bytes; the limit is {Limits.MaxMessageSizeBytes}", nameof(message));
        }
        if (encodedSize < 1 || destination.Length < encodedSize)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, message needs {encodedSize}", nameof(destination));
        }
        var w = new CodecWriter(destination[..encodedSize]);
        try
        {
            w.U8((byte)message.Kind);
            WriteFields(ref w, message);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException)
        {
            throw new ArgumentException($"{message.Kind} does not fit in the {encodedSize} bytes given", nameof(encodedSize), e);
        }
        if (w.Position != encodedSize)
        {
            throw new ArgumentException($"{message.Kind} encodes to {w.Position} bytes, not the {encodedSize} given", nameof(encodedSize));
        }
        return w.Position;
    }

    private static void WriteFields(ref CodecWriter w, Message message)
    {
        switch (message)
        {
            case ReplicaWrite m:
                w.I64(m.RequestId); w.Key(m.Key); w.Version(m.Version); w.Value(m.Value);
                break;
            case ReplicaWriteAck m:
                w.I64(m.RequestId); w.Bool(m.Ok);
                break;
            case ReplicaRead m:
                w.I64(m.RequestId); w.Key(m.Key);
                break;
            case ReplicaReadReply m:
                w.I64(m.RequestId); w.Bool(m.Found); w.Version(m.Version); w.Value(m.Value);
                break;
            case MerkleHashesRequest m:
                w.I64(m.RequestId); w.I32(m.Partition); w.U8((byte)m.Depth); w.Ints(m.Nodes);
                break;
            case MerkleHashesReply m:
                w.I64(m.RequestId); w.Bool(m.Ready); w.I32(m.Hashes.Length);
                foreach (UInt128 h in m.Hashes) w.U128(h);
                break;
            case LeafEntriesRequest m:
                w.I64(m.RequestId); w.I32(m.Partition); w.U8((byte)m.Depth); w.Ints(m.Leaves);
                break;
            case LeafEntriesReply m:
                w.I64(m.RequestId); w.Bool(m.Ready); w.I32(m.LeavesCovered); w.I32(m.Entries.Length);
                foreach (var e in m.Entries) { w.Key(e.Key); w.Version(e.Version); }
                break;
            case RepairPullRequest m:
                w.I64(m.RequestId); w.I32(m.Partition); w.I32(m.Keys.Length);
                foreach (string k in m.Keys) w.Key(k);
                break;
            case RepairPullReply m:
                w.I64(m.RequestId); w.I32(m.KeysCovered); w.I32(m.Items.Length);
                foreach (var item in m.Items) { w.Key(item.Key); w.Version(item.Version); w.Value(item.Value); }
                break;
            case ReadRepair m:
                w.Key(m.Key); w.Version(m.Version); w.Value(m.Value);
                break;
            case RepairPush m:
                w.I64(m.RequestId); w.Key(m.Key); w.Version(m.Version); w.Value(m.Value);
                break;
            case RepairPushAck m:
                w.I64(m.RequestId); w.Bool(m.Ok);
                break;
            case Heartbeat m:
                w.I64(m.Sequence); w.I64(m.RingVersion); w.I32(m.PartitionsHeld); w.I64(m.KeysHeld); w.I64(m.BytesHeld); w.I64(m.HintsPending);
                break;
            case RingDigest m:
                w.I64(m.Version); w.I32(m.Claimant);
                break;
            case RingStateMessage m:
                w.Blob(m.State);
                break;
            case RingChangeRequest m:
                w.I64(m.RequestId); w.U8((byte)m.Change); w.I32(m.Node); w.Bool(m.Force); w.Key(m.PeerAddress);
                w.I32(m.PartitionCount); w.I32(m.ReplicationFactor);
                break;
            case RingChangeReply m:
                w.I64(m.RequestId); w.Bool(m.Ok); w.Bool(m.Conflict); w.I64(m.Version); w.Key(m.Error); w.Bool(m.Retryable);
                break;
            case TransferDone m:
                w.U8((byte)m.ChangeKind); w.I32(m.ChangeNode); w.I32(m.Partition);
                break;
            case ReplicaRefused m:
                w.I64(m.RequestId); w.I64(m.RingVersion);
                break;
            case HintedWrite m:
                w.I64(m.RequestId); w.Key(m.Key); w.Version(m.Version); w.Value(m.Value); w.I32(m.Target);
                break;
            case HintedRead m:
                w.I64(m.RequestId); w.Key(m.Key);
                break;
            case HintReplay m:
                w.I64(m.RequestId); w.Key(m.Key); w.Version(m.Version); w.Value(m.Value);
                break;
            case HintReplayAck m:
                w.I64(m.RequestId); w.Bool(m.Ok);
                break;
            default:
                throw new ArgumentException($"unknown message type {message.GetType().Name}", nameof(message));
        }
    }

    public static Message Decode(ReadOnlySpan<byte> frame) => Decode(frame, null);

    /// <summary>Decodes one frame; <paramref name="keys"/> (the caller's own, or null) reuses the strings of recently seen keys.</summary>
    public static Message Decode(ReadOnlySpan<byte> frame, KeyInterner? keys)
    {
        if (frame.Length == 0) throw new ProtocolException("empty frame");
        if (frame.Length > Limits.MaxMessageSizeBytes)
        {
            throw new ProtocolException($"frame is {frame.Length} bytes; the limit is {Limits.MaxMessageSizeBytes}");
        }
        var r = new CodecReader(frame, keys);
        byte kind = r.U8("kind");
        Message message = (MessageKind)kind switch
        {
            MessageKind.ReplicaWrite => new ReplicaWrite(r.I64("requestId"), r.Key(), r.Version(), r.Value()),
            MessageKind.ReplicaWriteAck => new ReplicaWriteAck(r.I64("requestId"), r.Bool("ok")),
            MessageKind.ReplicaRead => new ReplicaRead(r.I64("requestId"), r.Key()),
            MessageKind.ReplicaReadReply => DecodeReadReply(ref r),
            MessageKind.MerkleHashesRequest => new MerkleHashesRequest(r.I64("requestId"), r.NonNegative("partition"), r.Depth(), r.Ints("nodes")),
            MessageKind.MerkleHashesReply => DecodeHashesReply(ref r),
            MessageKind.LeafEntriesRequest => new LeafEntriesRequest(r.I64("requestId"), r.NonNegative("partition"), r.Depth(), r.Ints("leaves")),
            MessageKind.LeafEntriesReply => DecodeEntriesReply(ref r),
            MessageKind.RepairPullRequest => DecodePullRequest(ref r),
            MessageKind.RepairPullReply => DecodePullReply(ref r),
            MessageKind.ReadRepair => new ReadRepair(r.Key(), r.Version(), r.Value()),
            MessageKind.RepairPush => new RepairPush(r.I64("requestId"), r.Key(), r.Version(), r.Value()),
            MessageKind.RepairPushAck => new RepairPushAck(r.I64("requestId"), r.Bool("ok")),
            MessageKind.Heartbeat => new Heartbeat(r.I64("sequence"), r.I64("ringVersion"), r.NonNegative("partitionsHeld"), r.I64("keysHeld"), r.I64("bytesHeld"), r.NonNegativeI64("hintsPending")),
            MessageKind.RingDigest => new RingDigest(r.I64("version"), r.NonNegative("claimant")),
            MessageKind.RingStateMessage => new RingStateMessage(r.Blob("ringState")),
            MessageKind.RingChangeRequest => new RingChangeRequest(r.I64("requestId"), ChangeKind(ref r), r.NonNegative("node"), r.Bool("force"),
                r.Key(), r.NonNegative("partitionCount"), r.NonNegative("replicationFactor")),
            MessageKind.RingChangeReply => new RingChangeReply(r.I64("requestId"), r.Bool("ok"), r.Bool("conflict"), r.I64("version"), r.Key(), r.Bool("retryable")),
            MessageKind.TransferDone => new TransferDone(ChangeKind(ref r), r.NonNegative("changeNode"), r.NonNegative("partition")),
            MessageKind.ReplicaRefused => new ReplicaRefused(r.I64("requestId"), r.I64("ringVersion")),
            MessageKind.HintedWrite => new HintedWrite(r.I64("requestId"), r.Key(), r.Version(), r.Value(), r.NonNegative("target")),
            MessageKind.HintedRead => new HintedRead(r.I64("requestId"), r.Key()),
            MessageKind.HintReplay => new HintReplay(r.I64("requestId"), r.Key(), r.Version(), r.Value()),
            MessageKind.HintReplayAck => new HintReplayAck(r.I64("requestId"), r.Bool("ok")),
            _ => throw new ProtocolException($"unknown message kind {kind}"),
        };
        if (r.Remaining != 0)
        {
            throw new ProtocolException($"{r.Remaining} trailing bytes after a {(MessageKind)kind} message");
        }
        return message;
    }

    private static ReplicaReadReply DecodeReadReply(ref CodecReader r)
    {
        long requestId = r.I64("requestId");
        bool found = r.Bool("found");
        WriteVersion version = r.Version();
        byte[]? value = r.Value();
        if (!found && (value is not null || !version.IsZero))
        {
            throw new ProtocolException("read reply says not found but carries a version or value");
        }
        return new ReplicaReadReply(requestId, found, version, value);
    }

    private static Membership.RingChangeKind ChangeKind(ref CodecReader r)
    {
        byte kind = r.U8("change kind");
        if (kind is < (byte)Membership.RingChangeKind.Join or > (byte)Membership.RingChangeKind.Remove)
        {
            throw new ProtocolException($"unknown ring change kind {kind}");
        }
        return (Membership.RingChangeKind)kind;
    }

    /// <summary>Most items (tree nodes, leaves, keys, entries) one repair message may carry.</summary>
    public const int MaxRepairBatch = 1 << 16;

    private static MerkleHashesReply DecodeHashesReply(ref CodecReader r)
    {
        long id = r.I64("requestId");
        bool ready = r.Bool("ready");
        int count = r.Count("hashes", 16);
        var hashes = new UInt128[count];
        for (int i = 0; i < count; i++) hashes[i] = r.U128("hash");
        return new MerkleHashesReply(id, ready, hashes);
    }

    private static LeafEntriesReply DecodeEntriesReply(ref CodecReader r)
    {
        long id = r.I64("requestId");
        bool ready = r.Bool("ready");
        int covered = r.NonNegative("leavesCovered");
        int count = r.Count("entries", 2 + 12);
        var entries = new Merkle.LeafEntry[count];
        for (int i = 0; i < count; i++) entries[i] = new Merkle.LeafEntry(r.Key(), r.Version());
        return new LeafEntriesReply(id, ready, covered, entries);
    }

    private static RepairPullRequest DecodePullRequest(ref CodecReader r)
    {
        long id = r.I64("requestId");
        int partition = r.NonNegative("partition");
        int count = r.Count("keys", 2);
        var keys = new string[count];
        for (int i = 0; i < count; i++) keys[i] = r.Key();
        return new RepairPullRequest(id, partition, keys);
    }

    private static RepairPullReply DecodePullReply(ref CodecReader r)
    {
        long id = r.I64("requestId");
        int covered = r.NonNegative("keysCovered");
        int count = r.Count("items", 2 + 12 + 4);
        var items = new RepairItem[count];
        for (int i = 0; i < count; i++) items[i] = new RepairItem(r.Key(), r.Version(), r.Value());
        return new RepairPullReply(id, covered, items);
    }

    private static int CountOf(int count) =>
        count <= MaxRepairBatch ? count : throw new ArgumentException($"{count} items; a repair message carries at most {MaxRepairBatch}");

    private static int IntArraySize(int[] values) => 4 + 4 * CountOf(values.Length);

    private static int EntriesSize(Merkle.LeafEntry[] entries)
    {
        int size = 0;
        foreach (var e in entries) size += KeySize(e.Key) + VersionSize;
        CountOf(entries.Length);
        return size;
    }

    private static int KeysSize(string[] keys)
    {
        int size = 0;
        foreach (string k in keys) size += KeySize(k);
        CountOf(keys.Length);
        return size;
    }

    private static int ItemsSize(RepairItem[] items)
    {
        int size = 0;
        foreach (var item in items) size += KeySize(item.Key) + VersionSize + ValueSize(item.Value);
        CountOf(items.Length);
        return size;
    }

    private const int VersionSize = 8 + 4;

    /// <summary>Encoded bytes of one key and value (with its version), for byte budgets and throttles.</summary>
    public static int KeyValueSize(string key, byte[]? value) => KeySize(key) + VersionSize + ValueSize(value);

    private static int KeySize(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int bytes = StrictUtf8.GetByteCount(key);
        if (bytes > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {bytes} bytes; the limit is {Limits.MaxKeySizeBytes}");
        }
        return 2 + bytes;
    }

    private static int ValueSize(byte[]? value)
    {
        if (value is not null && value.Length > Limits.MaxValueSizeBytes)
        {
            throw new ArgumentException($"value is {value.Length} bytes; the limit is {Limits.MaxValueSizeBytes}");
        }
        return 4 + (value?.Length ?? 0);
    }
}

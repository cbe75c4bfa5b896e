using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;

namespace Meteora.Engine.Membership;

/// <summary>
/// One binary form of <see cref="RingState"/> for gossip and for the `meta` column family: format byte,
/// version, claimant, N, Q, members (id, status, address), current owners, then the running change with
/// its target owners and finished transfers. Decoding checks every field and the state's invariants;
/// anything wrong is a <see cref="ProtocolException"/>.
/// </summary>
public static class RingStateCodec
{
    public const byte Format = 1;

    public static byte[] Encode(RingState ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        int size = Size(ring);
        if (size > Limits.MaxMessageSizeBytes) throw new InvalidOperationException($"ring state is {size} bytes; the limit is {Limits.MaxMessageSizeBytes}");
        var buffer = new byte[size];
        var w = new CodecWriter(buffer);
        w.U8(Format);
        w.I64(ring.Version); w.I32(ring.Claimant); w.I32(ring.ReplicationFactor); w.I32(ring.PartitionCount);
        w.I32(ring.Members.Count);
        foreach (Member m in ring.Members) { w.I32(m.NodeId); w.U8((byte)m.Status); w.Key(m.PeerAddress); }
        foreach (int owner in ring.Current.Owners) w.I32(owner);
        w.Bool(ring.Change is not null);
        if (ring.Change is { } change)
        {
            w.U8((byte)change.Kind); w.I32(change.Node);
            foreach (int owner in ring.Target!.Owners) w.I32(owner);
            w.I32(ring.Done.Count);
            foreach (var (partition, node) in ring.Done) { w.I32(partition); w.I32(node); }
        }
        if (w.Position != size) throw new InvalidOperationException($"ring codec wrote {w.Position} bytes, expected {size}");
        return buffer;
    }

    private static int Size(RingState ring)
    {
        int size = 1 + 8 + 4 + 4 + 4 + 4;
        foreach (Member m in ring.Members) size += 4 + 1 + 2 + System.Text.Encoding.UTF8.GetByteCount(m.PeerAddress);
        size += 4 * ring.PartitionCount + 1;
        if (ring.Change is not null) size += 1 + 4 + 4 * ring.PartitionCount + 4 + 8 * ring.Done.Count;
        return size;
    }

    public static RingState Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CodecReader(bytes);
        byte format = r.U8("format");
        if (format != Format) throw new ProtocolException($"ring state format {format} is not {Format}");
        long version = r.I64("version");
        int claimant = r.NonNegative("claimant");
        int n = r.I32("replicationFactor");
        int q = r.I32("partitionCount");
        if (n < 1 || n > Limits.MaxReplicationFactor) throw new ProtocolException($"ring N {n} is out of range");
        if (q < 1 || q > Limits.MaxPartitions) throw new ProtocolException($"ring Q {q} is out of range");
        Member[] members = ReadMembers(ref r);
        try
        {
            RingLayout current = RingLayout.FromOwners(q, ReadOwners(ref r, q));
            RingChange? change = null;
            RingLayout? target = null;
            var done = new SortedSet<(int, int)>();
            if (r.Bool("hasChange"))
            {
                byte kind = r.U8("changeKind");
                if (kind is < 1 or > 3) throw new ProtocolException($"unknown ring change kind {kind}");
                change = new RingChange((RingChangeKind)kind, r.NonNegative("changeNode"));
                target = RingLayout.FromOwners(q, ReadOwners(ref r, q));
                int count = r.Count("done", 8);
                for (int i = 0; i < count; i++) done.Add((r.NonNegative("donePartition"), r.NonNegative("doneNode")));
            }
            if (r.Remaining != 0) throw new ProtocolException($"{r.Remaining} trailing bytes after a ring state");
            return new RingState(version, claimant, n, members, current, change, target, done);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ProtocolException($"ring state is invalid: {e.Message}");
        }
    }

    private static Member[] ReadMembers(ref CodecReader r)
    {
        int count = r.Count("members", 4 + 1 + 2);
        if (count < 1 || count > Limits.MaxNodes) throw new ProtocolException($"ring has {count} members");
        var members = new Member[count];
        for (int i = 0; i < count; i++)
        {
            int id = r.NonNegative("memberId");
            byte status = r.U8("memberStatus");
            if (status is < 1 or > 3) throw new ProtocolException($"unknown member status {status}");
            string address = r.Key();
            members[i] = new Member(id, address, (MemberStatus)status);
        }
        return members;
    }

    private static int[] ReadOwners(ref CodecReader r, int q)
    {
        var owners = new int[q];
        for (int p = 0; p < q; p++) owners[p] = r.NonNegative("owner");
        return owners;
    }
}

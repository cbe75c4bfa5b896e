using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;
using Meteora.Engine.Merkle;

namespace Meteora.Tests.Property;

public sealed class CodecTests
{
    private static readonly Gen<string> Keys =
        Gen.Elements("", "k", "key-42", "ü€𝄞", new string('x', Limits.MaxKeySizeBytes))
            .Or(ArbMap.Default.GeneratorFor<NonNull<string>>().Select(s => s.Get)
                .Where(s => System.Text.Encoding.UTF8.GetByteCount(s) <= Limits.MaxKeySizeBytes && IsValidUnicode(s)));

    private static readonly Gen<WriteVersion> Versions =
        from ts in ArbMap.Default.GeneratorFor<long>().Select(Math.Abs).Where(t => t >= 0)
        from node in ArbMap.Default.GeneratorFor<uint>()
        select new WriteVersion(ts, node);

    private static readonly Gen<byte[]?> Values =
        Gen.Frequency((1, Gen.Constant<byte[]?>(null)), (4, ArbMap.Default.GeneratorFor<byte[]>().Select(b => (byte[]?)b)));

    public static Arbitrary<Message> Messages() =>
        Gen.OneOf(
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys from v in Versions from value in Values
            select (Message)new ReplicaWrite(id, key, v, value),
            from id in ArbMap.Default.GeneratorFor<long>() from ok in ArbMap.Default.GeneratorFor<bool>()
            select (Message)new ReplicaWriteAck(id, ok),
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys
            select (Message)new ReplicaRead(id, key),
            from id in ArbMap.Default.GeneratorFor<long>() from found in ArbMap.Default.GeneratorFor<bool>()
            from v in Versions from value in Values
            select (Message)(found ? new ReplicaReadReply(id, true, v, value) : new ReplicaReadReply(id, false, WriteVersion.Zero, null)),
            from id in ArbMap.Default.GeneratorFor<long>() from p in Gen.Choose(0, 1 << 16) from depth in Gen.Choose(0, 20)
            from nodes in Gen.ArrayOf(Gen.Choose(0, int.MaxValue))
            select (Message)new MerkleHashesRequest(id, p, depth, nodes),
            from id in ArbMap.Default.GeneratorFor<long>() from ready in ArbMap.Default.GeneratorFor<bool>()
            from hashes in Gen.ArrayOf(from a in ArbMap.Default.GeneratorFor<ulong>() from b in ArbMap.Default.GeneratorFor<ulong>() select new UInt128(a, b))
            select (Message)new MerkleHashesReply(id, ready, hashes),
            from id in ArbMap.Default.GeneratorFor<long>() from p in Gen.Choose(0, 1 << 16) from depth in Gen.Choose(0, 20)
            from leaves in Gen.ArrayOf(Gen.Choose(0, 1 << 20))
            select (Message)new LeafEntriesRequest(id, p, depth, leaves),
            from id in ArbMap.Default.GeneratorFor<long>() from ready in ArbMap.Default.GeneratorFor<bool>() from covered in Gen.Choose(0, 300)
            from entries in Gen.ArrayOf(from k in Keys from v in Versions select new Meteora.Engine.Merkle.LeafEntry(k, v)).Resize(20)
            select (Message)new LeafEntriesReply(id, ready, covered, entries),
            from id in ArbMap.Default.GeneratorFor<long>() from p in Gen.Choose(0, 1 << 16)
            from keys in Gen.ArrayOf(Keys).Resize(20)
            select (Message)new RepairPullRequest(id, p, keys),
            from id in ArbMap.Default.GeneratorFor<long>() from covered in Gen.Choose(0, 300)
            from items in Gen.ArrayOf(from k in Keys from v in Versions from value in Values select new RepairItem(k, v, value)).Resize(10)
            select (Message)new RepairPullReply(id, covered, items),
            from key in Keys from v in Versions from value in Values
            select (Message)new ReadRepair(key, v, value),
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys from v in Versions from value in Values
            select (Message)new RepairPush(id, key, v, value),
            from id in ArbMap.Default.GeneratorFor<long>() from ok in ArbMap.Default.GeneratorFor<bool>()
            select (Message)new RepairPushAck(id, ok),
            from sequence in ArbMap.Default.GeneratorFor<long>() from ring in ArbMap.Default.GeneratorFor<long>()
            from held in Gen.Choose(0, 1 << 16) from keys in ArbMap.Default.GeneratorFor<long>() from bytes in ArbMap.Default.GeneratorFor<long>()
            from hints in Gen.Choose(0, int.MaxValue)
            select (Message)new Heartbeat(sequence, ring, held, keys, bytes, hints),
            from version in ArbMap.Default.GeneratorFor<long>() from claimant in Gen.Choose(0, int.MaxValue)
            select (Message)new RingDigest(version, claimant),
            from state in ArbMap.Default.GeneratorFor<byte[]>()
            select (Message)new RingStateMessage(state),
            from id in ArbMap.Default.GeneratorFor<long>() from kind in Gen.Elements(Enum.GetValues<Meteora.Engine.Membership.RingChangeKind>())
            from node in Gen.Choose(0, int.MaxValue) from force in ArbMap.Default.GeneratorFor<bool>() from address in Keys
            from q in Gen.Choose(0, 1 << 16) from n in Gen.Choose(0, 16)
            select (Message)new RingChangeRequest(id, kind, node, force, address, q, n),
            from id in ArbMap.Default.GeneratorFor<long>() from ok in ArbMap.Default.GeneratorFor<bool>() from conflict in ArbMap.Default.GeneratorFor<bool>()
            from version in ArbMap.Default.GeneratorFor<long>() from error in Keys from retryable in ArbMap.Default.GeneratorFor<bool>()
            select (Message)new RingChangeReply(id, ok, conflict, version, error, retryable),
            from kind in Gen.Elements(Enum.GetValues<Meteora.Engine.Membership.RingChangeKind>()) from node in Gen.Choose(0, int.MaxValue)
            from p in Gen.Choose(0, 1 << 16)
            select (Message)new TransferDone(kind, node, p),
            from id in ArbMap.Default.GeneratorFor<long>() from version in ArbMap.Default.GeneratorFor<long>()
            select (Message)new ReplicaRefused(id, version),
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys from v in Versions from value in Values from target in Gen.Choose(0, int.MaxValue)
            select (Message)new HintedWrite(id, key, v, value, target),
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys
            select (Message)new HintedRead(id, key),
            from id in ArbMap.Default.GeneratorFor<long>() from key in Keys from v in Versions from value in Values
            select (Message)new HintReplay(id, key, v, value),
            from id in ArbMap.Default.GeneratorFor<long>() from ok in ArbMap.Default.GeneratorFor<bool>()
            select (Message)new HintReplayAck(id, ok))
        .ToArbitrary();

    private static bool IsValidUnicode(string s)
    {
        try
        {
            new System.Text.UTF8Encoding(false, true).GetByteCount(s);
            return true;
        }
        catch (System.Text.EncoderFallbackException)
        {
            return false;
        }
    }

    [Property(Arbitrary = [typeof(CodecTests)], MaxTest = 500)]
    public void Every_message_round_trips(Message message)
    {
        byte[] frame = MessageCodec.Encode(message);
        Assert.Equal(MessageCodec.EncodedSize(message), frame.Length);
        Assert.Equal(message, MessageCodec.Decode(frame));
    }

    /// <summary>Encoding with a size computed beforehand (a peer link's buffer, a simulated frame) writes the same bytes, and only with the true size.</summary>
    [Property(Arbitrary = [typeof(CodecTests)], MaxTest = 300)]
    public void Encoding_with_a_known_size_writes_the_same_frame_and_refuses_a_wrong_size(Message message)
    {
        int size = MessageCodec.EncodedSize(message);
        byte[] buffer = new byte[size + 8];
        Assert.Equal(size, MessageCodec.Encode(message, size, buffer));
        Assert.Equal(MessageCodec.Encode(message), buffer[..size]);
        // Too small: the write stays inside the given size and fails; too large: the size check fails.
        Assert.ThrowsAny<ArgumentException>(() => MessageCodec.Encode(message, size - 1, buffer));
        Assert.ThrowsAny<ArgumentException>(() => MessageCodec.Encode(message, size + 1, buffer));
    }

    /// <summary>One interner across many decodes (as a peer connection keeps it): the same messages, second time from kept keys.</summary>
    [Property(Arbitrary = [typeof(CodecTests)], MaxTest = 300)]
    public void Decoding_with_a_key_interner_gives_the_same_messages(Message[] messages)
    {
        var keys = new KeyInterner();
        for (int round = 0; round < 2; round++)
        {
            foreach (Message message in messages) Assert.Equal(message, MessageCodec.Decode(MessageCodec.Encode(message), keys));
        }
    }

    [Fact]
    public void The_generator_covers_every_message_kind()
    {
        var gen = Messages().Generator;
        var kinds = Gen.Sample(gen, 2000).Select(m => m.Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<MessageKind>().ToHashSet(), kinds);
    }

    [Fact]
    public void Negative_counts_and_counts_beyond_the_frame_are_rejected()
    {
        byte[] frame = [(byte)MessageKind.MerkleHashesRequest, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff];
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame));
        Assert.Contains("count", e.Message);
    }

    /// <summary>A frame cut inside a count or a length names that field (the name is now joined only on failure).</summary>
    [Fact]
    public void A_frame_cut_inside_a_count_or_a_length_names_the_field()
    {
        byte[] hashes = MessageCodec.Encode(new MerkleHashesReply(7, true, [UInt128.One]));
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(hashes.AsSpan(0, 1 + 8 + 1 + 2)));
        Assert.Contains("reading hashes count: needs 4 bytes, 2 left", e.Message);

        byte[] ring = MessageCodec.Encode(new RingStateMessage([1, 2, 3]));
        e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(ring.AsSpan(0, 1 + 3)));
        Assert.Contains("reading ringState length: needs 4 bytes, 3 left", e.Message);
    }

    [Property(Arbitrary = [typeof(CodecTests)], MaxTest = 300)]
    public void Every_truncation_is_rejected_with_a_protocol_error(Message message, NonNegativeInt cut)
    {
        byte[] frame = MessageCodec.Encode(message);
        int length = cut.Get % frame.Length;
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame.AsSpan(0, length)));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Property(Arbitrary = [typeof(CodecTests)], MaxTest = 300)]
    public void Trailing_bytes_are_rejected(Message message, byte extra)
    {
        byte[] frame = [.. MessageCodec.Encode(message), extra];
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame));
        Assert.Contains("trailing", e.Message);
    }

    [Property(MaxTest = 1000)]
    public void Random_garbage_never_throws_anything_but_a_protocol_error(byte[] garbage)
    {
        try
        {
            MessageCodec.Decode(garbage);
        }
        catch (ProtocolException)
        {
        }
    }

    [Theory]
    [InlineData(new byte[] { }, "empty")]
    [InlineData(new byte[] { 99 }, "unknown message kind 99")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 1, 7 }, "ok must be 0 or 1")]
    public void Malformed_frames_name_the_problem(byte[] frame, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Oversized_value_length_is_rejected_before_allocating()
    {
        var frame = new byte[1 + 8 + 2 + 1 + 12 + 4];
        frame[0] = (byte)MessageKind.ReplicaWrite;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(9), 1);
        frame[11] = (byte)'k';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(24), int.MaxValue);
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Invalid_utf8_key_is_rejected()
    {
        byte[] frame = [(byte)MessageKind.ReplicaRead, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0xC3, 0x28];
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame));
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Encoding_refuses_keys_and_values_over_the_limits()
    {
        Assert.Throws<ArgumentException>(() => MessageCodec.Encode(new ReplicaRead(1, new string('x', Limits.MaxKeySizeBytes + 1))));
        Assert.Throws<ArgumentException>(() => MessageCodec.Encode(
            new ReplicaWrite(1, "k", new WriteVersion(1, 1), new byte[Limits.MaxValueSizeBytes + 1])));
    }
}

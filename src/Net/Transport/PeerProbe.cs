using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Meteora.Engine.Membership;

namespace Meteora.Net.Transport;

/// <summary>
/// The listener's answer to a join probe (a hello addressed to <see cref="PeerHandshake.AnyNode"/>),
/// sent once after the accept: who listens here, the ring's shape and version, and what the ring says of
/// the dialer's id (not a member, or its status and address). It carries an HMAC over the hello, the
/// listener's nonce and the body under its own label, so it is as authentic as the handshake and cannot
/// be replayed from another connection. Layout: magic, listener id, Q, N, ring version, dialer status
/// (0 = not a member), address length (u16), address bytes, proof.
/// </summary>
public sealed record PeerProbe(int ListenerId, int PartitionCount, int ReplicationFactor, long RingVersion, MemberStatus? DialerStatus, string DialerAddress)
{
    public const uint Magic = 0x4D545052; // "MTPR"
    private const int FixedBytes = 4 + 4 + 4 + 4 + 8 + 1 + 2;
    public const int MaxBytes = FixedBytes + Member.MaxPeerAddressBytes + PeerHandshake.ProofBytes;
    public const int MinBytes = FixedBytes + PeerHandshake.ProofBytes;

    private static readonly byte[] Label = Encoding.ASCII.GetBytes("meteora/peer/v3/probe");

    /// <summary>What the listener's <paramref name="ring"/> says of <paramref name="dialer"/>; version 0 while it knows no ring.</summary>
    public static PeerProbe Describe(int listenerId, int partitionCount, int replicationFactor, RingState? ring, int dialer)
    {
        Member? member = ring?.MemberOf(dialer);
        return new PeerProbe(listenerId, partitionCount, replicationFactor, ring?.Version ?? 0, member?.Status, member?.PeerAddress ?? "");
    }

    public byte[] Encode(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> listenerNonce)
    {
        byte[] address = Encoding.UTF8.GetBytes(DialerAddress);
        if (address.Length > Member.MaxPeerAddressBytes) throw new ArgumentException($"an address is at most {Member.MaxPeerAddressBytes} bytes");
        int bodyBytes = FixedBytes + address.Length;
        var payload = new byte[bodyBytes + PeerHandshake.ProofBytes];
        Span<byte> span = payload;
        BinaryPrimitives.WriteUInt32BigEndian(span, Magic);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], ListenerId);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], PartitionCount);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], ReplicationFactor);
        BinaryPrimitives.WriteInt64BigEndian(span[16..], RingVersion);
        span[24] = (byte)(DialerStatus ?? 0);
        BinaryPrimitives.WriteUInt16BigEndian(span[25..], (ushort)address.Length);
        address.CopyTo(span[FixedBytes..]);
        Proof(key, helloPayload, listenerNonce, span[..bodyBytes], span[bodyBytes..]);
        return payload;
    }

    /// <summary>Checks the proof and decodes; throws <see cref="PeerAuthenticationException"/> or <see cref="PeerFrameException"/>.</summary>
    public static PeerProbe Decode(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> listenerNonce, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < MinBytes || payload.Length > MaxBytes) throw new PeerFrameException($"probe reply is {payload.Length} bytes, expected {MinBytes}..{MaxBytes}");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (magic != Magic) throw new PeerFrameException($"probe reply magic is 0x{magic:x8}, expected 0x{Magic:x8}");
        int addressBytes = BinaryPrimitives.ReadUInt16BigEndian(payload[25..]);
        int bodyBytes = FixedBytes + addressBytes;
        if (payload.Length != bodyBytes + PeerHandshake.ProofBytes) throw new PeerFrameException($"probe reply is {payload.Length} bytes, its address says {bodyBytes + PeerHandshake.ProofBytes}");
        Span<byte> expected = stackalloc byte[PeerHandshake.ProofBytes];
        Proof(key, helloPayload, listenerNonce, payload[..bodyBytes], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, payload[bodyBytes..]))
        {
            throw new PeerAuthenticationException("the probe reply's proof does not match this node's cluster secret");
        }
        byte status = payload[24];
        if (status > (byte)MemberStatus.Leaving) throw new PeerFrameException($"probe reply names member status {status}");
        return new PeerProbe(
            BinaryPrimitives.ReadInt32BigEndian(payload[4..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[8..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[12..]),
            BinaryPrimitives.ReadInt64BigEndian(payload[16..]),
            status == 0 ? null : (MemberStatus)status,
            Encoding.UTF8.GetString(payload.Slice(FixedBytes, addressBytes)));
    }

    private static void Proof(byte[] key, ReadOnlySpan<byte> hello, ReadOnlySpan<byte> listenerNonce, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Label);
        hmac.AppendData(hello);
        hmac.AppendData(listenerNonce);
        hmac.AppendData(body);
        if (!hmac.TryGetHashAndReset(destination, out int written) || written != PeerHandshake.ProofBytes)
        {
            throw new InvalidOperationException("HMAC-SHA256 did not produce a full proof");
        }
    }
}

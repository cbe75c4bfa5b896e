using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Meteora.Net.Transport;

/// <summary>
/// The peer handshake (protocol 3): mutual challenge-response over a shared cluster secret, so the
/// secret never crosses the wire and a recorded handshake cannot be replayed (each side's proof covers
/// the other side's fresh nonce). Every step is one length-prefixed frame (<see cref="PeerFrames"/>):
/// <list type="number">
/// <item>Hello, dialer → listener: magic, version, sender id, receiver id, partition count, dialer nonce.</item>
/// <item>Challenge, listener → dialer: listener nonce, listener proof = HMAC(secret, "server" label, hello, listener nonce).</item>
/// <item>Proof, dialer → listener: dialer proof = HMAC(secret, "client" label, hello, listener nonce).</item>
/// <item>Accept, listener → dialer: magic. From here on only the dialer writes (messages).</item>
/// </list>
/// Protocol 3 adds the join probe: a hello addressed to <see cref="AnyNode"/> is answered, after the
/// same four steps, by one authenticated <see cref="PeerProbe"/> reply (the listener's id and what its
/// ring says of the dialer), and the connection closes. A node started with <c>--join HOST:PORT</c>
/// learns its seed's id that way. Since protocol 3 a listener accepts any dialer id that proves the
/// secret (a joining node is not in the ring yet); the secret, not the id, proves cluster membership.
/// The two labels keep a proof from one direction from being reflected as the other. HMAC-SHA256 is
/// RFC 2104 / FIPS 198-1; the nonce exchange follows the usual mutual challenge-response pattern
/// (e.g. ISO/IEC 9798-4's three-pass mutual authentication).
/// </summary>
public static class PeerHandshake
{
    public const uint HelloMagic = 0x4D545250; // "MTRP"
    public const uint AcceptMagic = 0x4D544F4B; // "MTOK"
    public const ushort ProtocolVersion = 3;

    /// <summary>The receiver id of a join probe's hello: "whichever node listens here".</summary>
    public const int AnyNode = -1;
    public const int NonceBytes = 32;
    public const int ProofBytes = HMACSHA256.HashSizeInBytes;
    public const int HelloBytes = 4 + 2 + 4 + 4 + 4 + NonceBytes;
    public const int ChallengeBytes = NonceBytes + ProofBytes;
    public const int AcceptBytes = 4;

    /// <summary>Each side must finish its part of the handshake within this time or the connection closes.</summary>
    public const int TimeoutMs = 5_000;

    private static readonly byte[] ListenerLabel = Encoding.ASCII.GetBytes("meteora/peer/v2/listener");
    private static readonly byte[] DialerLabel = Encoding.ASCII.GetBytes("meteora/peer/v2/dialer");

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceBytes);

    public static byte[] EncodeHello(Hello hello)
    {
        if (hello.Nonce.Length != NonceBytes) throw new ArgumentException($"a nonce is {NonceBytes} bytes", nameof(hello));
        var payload = new byte[HelloBytes];
        Span<byte> span = payload;
        BinaryPrimitives.WriteUInt32BigEndian(span, HelloMagic);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], ProtocolVersion);
        BinaryPrimitives.WriteInt32BigEndian(span[6..], hello.FromNode);
        BinaryPrimitives.WriteInt32BigEndian(span[10..], hello.ToNode);
        BinaryPrimitives.WriteInt32BigEndian(span[14..], hello.PartitionCount);
        hello.Nonce.CopyTo(span[18..]);
        return payload;
    }

    public static Hello DecodeHello(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, HelloBytes, "hello");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (magic != HelloMagic) throw new PeerFrameException($"handshake magic is 0x{magic:x8}, expected 0x{HelloMagic:x8}");
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(payload[4..]);
        if (version != ProtocolVersion) throw new PeerFrameException($"peer speaks protocol {version}, this node speaks {ProtocolVersion}");
        return new Hello(
            BinaryPrimitives.ReadInt32BigEndian(payload[6..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[10..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[14..]),
            payload.Slice(18, NonceBytes).ToArray());
    }

    /// <summary>The listener's reply to a hello: its nonce and its proof of the secret.</summary>
    public static byte[] EncodeChallenge(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> listenerNonce)
    {
        if (listenerNonce.Length != NonceBytes) throw new ArgumentException($"a nonce is {NonceBytes} bytes", nameof(listenerNonce));
        var payload = new byte[ChallengeBytes];
        listenerNonce.CopyTo(payload);
        Proof(key, ListenerLabel, helloPayload, listenerNonce, payload.AsSpan(NonceBytes));
        return payload;
    }

    /// <summary>Checks the listener's proof; returns the listener nonce the dialer must answer.</summary>
    public static byte[] VerifyChallenge(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> challenge)
    {
        RequireLength(challenge, ChallengeBytes, "challenge");
        ReadOnlySpan<byte> nonce = challenge[..NonceBytes];
        if (!Matches(key, ListenerLabel, helloPayload, nonce, challenge[NonceBytes..]))
        {
            throw new PeerAuthenticationException("the listener's proof does not match this node's cluster secret");
        }
        return nonce.ToArray();
    }

    public static byte[] DialerProof(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> listenerNonce)
    {
        var proof = new byte[ProofBytes];
        Proof(key, DialerLabel, helloPayload, listenerNonce, proof);
        return proof;
    }

    public static void VerifyDialerProof(byte[] key, ReadOnlySpan<byte> helloPayload, ReadOnlySpan<byte> listenerNonce, ReadOnlySpan<byte> proof)
    {
        RequireLength(proof, ProofBytes, "proof");
        if (!Matches(key, DialerLabel, helloPayload, listenerNonce, proof))
        {
            throw new PeerAuthenticationException("the peer's proof does not match this node's cluster secret");
        }
    }

    public static byte[] EncodeAccept()
    {
        var payload = new byte[AcceptBytes];
        BinaryPrimitives.WriteUInt32BigEndian(payload, AcceptMagic);
        return payload;
    }

    public static void VerifyAccept(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, AcceptBytes, "accept");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (magic != AcceptMagic) throw new PeerFrameException($"accept magic is 0x{magic:x8}, expected 0x{AcceptMagic:x8}");
    }

    /// <summary>A frame (length prefix, then payload) for one handshake step.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[PeerFrames.LengthPrefixBytes + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(PeerFrames.LengthPrefixBytes));
        return frame;
    }

    private static void Proof(byte[] key, byte[] label, ReadOnlySpan<byte> hello, ReadOnlySpan<byte> listenerNonce, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(label);
        hmac.AppendData(hello);
        hmac.AppendData(listenerNonce);
        if (!hmac.TryGetHashAndReset(destination, out int written) || written != ProofBytes)
        {
            throw new InvalidOperationException("HMAC-SHA256 did not produce a full proof");
        }
    }

    private static bool Matches(byte[] key, byte[] label, ReadOnlySpan<byte> hello, ReadOnlySpan<byte> listenerNonce, ReadOnlySpan<byte> proof)
    {
        Span<byte> expected = stackalloc byte[ProofBytes];
        Proof(key, label, hello, listenerNonce, expected);
        return proof.Length == ProofBytes && CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    private static void RequireLength(ReadOnlySpan<byte> payload, int expected, string step)
    {
        if (payload.Length != expected) throw new PeerFrameException($"handshake {step} is {payload.Length} bytes, expected {expected}");
    }

    /// <summary>The dialer's opening frame: who it is, whom it wants, its ring shape, and its fresh nonce.</summary>
    public sealed record Hello(int FromNode, int ToNode, int PartitionCount, byte[] Nonce);
}

/// <summary>The other side does not hold this node's cluster secret; the connection is closed.</summary>
public sealed class PeerAuthenticationException(string message) : Exception(message);

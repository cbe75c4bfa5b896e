using System.Buffers;
using System.Buffers.Binary;
using Meteora.Engine;

namespace Meteora.Net.Transport;

/// <summary>
/// Peer wire format: every frame is a u32 big-endian payload length, then the payload. The first frame
/// on a connection is a handshake (magic, protocol version, sender id, intended receiver id, partition
/// count); every later frame is one message in the engine's <see cref="Meteora.Engine.Protocol.MessageCodec"/>.
/// Connections are one-way: the connecting node sends, the accepting node only reads.
/// </summary>
public static class PeerFrames
{
    public const int LengthPrefixBytes = 4;

    /// <summary>Largest payload accepted; anything bigger is garbage or an attack and closes the connection.</summary>
    public const int MaxPayloadBytes = Limits.MaxMessageSizeBytes;

    public const uint HandshakeMagic = 0x4D545250; // "MTRP"
    public const ushort ProtocolVersion = 1;
    public const int HandshakePayloadBytes = 4 + 2 + 4 + 4 + 4;

    public static byte[] EncodeHandshake(Handshake handshake)
    {
        var frame = new byte[LengthPrefixBytes + HandshakePayloadBytes];
        Span<byte> span = frame;
        BinaryPrimitives.WriteUInt32BigEndian(span, HandshakePayloadBytes);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], HandshakeMagic);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], ProtocolVersion);
        BinaryPrimitives.WriteInt32BigEndian(span[10..], handshake.FromNode);
        BinaryPrimitives.WriteInt32BigEndian(span[14..], handshake.ToNode);
        BinaryPrimitives.WriteInt32BigEndian(span[18..], handshake.PartitionCount);
        return frame;
    }

    public static Handshake DecodeHandshake(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != HandshakePayloadBytes)
        {
            throw new PeerFrameException($"handshake is {payload.Length} bytes, expected {HandshakePayloadBytes}");
        }
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (magic != HandshakeMagic) throw new PeerFrameException($"handshake magic is 0x{magic:x8}, expected 0x{HandshakeMagic:x8}");
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(payload[4..]);
        if (version != ProtocolVersion) throw new PeerFrameException($"peer speaks protocol {version}, this node speaks {ProtocolVersion}");
        return new Handshake(
            BinaryPrimitives.ReadInt32BigEndian(payload[6..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[10..]),
            BinaryPrimitives.ReadInt32BigEndian(payload[14..]));
    }

    /// <summary>
    /// Takes one complete frame's payload off the front of <paramref name="buffer"/>. Returns false if
    /// the frame is not complete yet; throws <see cref="PeerFrameException"/> on a zero or oversized
    /// length, before buffering such a frame.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < LengthPrefixBytes) return false;
        Span<byte> prefix = stackalloc byte[LengthPrefixBytes];
        buffer.Slice(0, LengthPrefixBytes).CopyTo(prefix);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length == 0) throw new PeerFrameException("empty frame");
        if (length > MaxPayloadBytes) throw new PeerFrameException($"frame of {length} bytes exceeds the {MaxPayloadBytes}-byte limit");
        if (buffer.Length < LengthPrefixBytes + length) return false;
        payload = buffer.Slice(LengthPrefixBytes, length);
        buffer = buffer.Slice(LengthPrefixBytes + length);
        return true;
    }
}

public readonly record struct Handshake(int FromNode, int ToNode, int PartitionCount);

/// <summary>A peer sent bytes that are not a valid frame; the connection is closed.</summary>
public sealed class PeerFrameException(string message) : Exception(message);

using System.Buffers;
using System.Buffers.Binary;
using Meteora.Engine;

namespace Meteora.Net.Transport;

/// <summary>
/// Peer wire format: every frame is a u32 big-endian payload length, then the payload. A connection
/// opens with the authenticated handshake of <see cref="PeerHandshake"/>; every later frame is one
/// message in the engine's <see cref="Meteora.Engine.Protocol.MessageCodec"/>. After the handshake
/// connections are one-way: the connecting node sends, the accepting node only reads.
/// </summary>
public static class PeerFrames
{
    public const int LengthPrefixBytes = 4;

    /// <summary>Largest payload accepted; anything bigger is garbage or an attack and closes the connection.</summary>
    public const int MaxPayloadBytes = Limits.MaxMessageSizeBytes;

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

/// <summary>A peer sent bytes that are not a valid frame; the connection is closed.</summary>
public sealed class PeerFrameException(string message) : Exception(message);

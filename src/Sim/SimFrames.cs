using System.Buffers;
using Meteora.Engine.Protocol;

namespace Meteora.Sim;

/// <summary>
/// Encoded frames in flight between simulated nodes, in pooled buffers: a frame lives from its send to
/// its delivery (or its send failure), and a fresh array per message was 14 % of the simulator's
/// allocated bytes (issue 11). A frame has exactly one owner at a time, the network or the event
/// carrying it, which returns it once processed; a duplicated delivery gets its own copy, so no buffer
/// is ever returned twice. Only a frame's first <c>length</c> bytes are ever read, so which array it
/// occupies cannot change a run: with <c>pooled: false</c> (every frame a fresh array, never reused)
/// a run must give the same trace, which is how the tests check the ownership rule.
/// </summary>
internal sealed class SimFrames(bool pooled = true)
{
    public bool Pooled { get; } = pooled;

    public (byte[] Buffer, int Length) Encode(Message message)
    {
        int length = MessageCodec.EncodedSize(message);
        byte[] buffer = Rent(length);
        MessageCodec.Encode(message, length, buffer); // checks that it wrote exactly length bytes
        return (buffer, length);
    }

    public byte[] Copy(byte[] frame, int length)
    {
        byte[] copy = Rent(length);
        frame.AsSpan(0, length).CopyTo(copy);
        return copy;
    }

    public void Return(byte[] frame)
    {
        if (Pooled) ArrayPool<byte>.Shared.Return(frame);
    }

    private byte[] Rent(int length) => Pooled ? ArrayPool<byte>.Shared.Rent(length) : new byte[length];
}

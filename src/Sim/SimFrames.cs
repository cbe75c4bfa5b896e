using System.Numerics;
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
/// <para>
/// The pool is this instance's own, one per simulated cluster, so it needs no lock (the shared
/// <c>ArrayPool</c> took a lock whenever more than one buffer of a size was free, ~2 % of a run's
/// cycles): free buffers by power-of-two size, at most <see cref="MaxFreePerSize"/> of each, and
/// frames over <see cref="MaxPooledBytes"/> are not pooled.
/// </para>
/// </summary>
internal sealed class SimFrames(bool pooled = true)
{
    public const int MaxPooledBytes = 64 * 1024;
    public const int MaxFreePerSize = 4096;
    private const int MinSizeLog2 = 5; // 32 bytes: the smallest bucket

    private readonly Stack<byte[]>[] _free = CreateBuckets();

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
        ArgumentNullException.ThrowIfNull(frame);
        if (!Pooled || frame.Length > MaxPooledBytes) return; // larger frames were never pooled
        // Every other frame came from Rent, whose sizes are bucket sizes: anything else is a foreign buffer.
        if (!BitOperations.IsPow2(frame.Length) || frame.Length < 1 << MinSizeLog2) ThrowForeign(frame.Length);
        Stack<byte[]> free = _free[Bucket(frame.Length)];
        if (free.Count < MaxFreePerSize) free.Push(frame);

        // The message in its own method: its builder's locals cost every return a larger frame (issue 11).
        static void ThrowForeign(int length) => throw new ArgumentException($"a {length}-byte buffer did not come from this pool", nameof(frame));
    }

    private byte[] Rent(int length)
    {
        if (!Pooled || length > MaxPooledBytes) return new byte[length];
        int bucket = Bucket(length);
        return _free[bucket].TryPop(out byte[]? buffer) ? buffer : new byte[1 << (bucket + MinSizeLog2)];
    }

    /// <summary>The bucket of buffers of 2^(bucket + MinSizeLog2) bytes, the smallest that holds <paramref name="length"/>.</summary>
    private static int Bucket(int length) =>
        Math.Max(0, BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 1))) - MinSizeLog2);

    private static Stack<byte[]>[] CreateBuckets()
    {
        var buckets = new Stack<byte[]>[BitOperations.Log2(MaxPooledBytes) - MinSizeLog2 + 1];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = new Stack<byte[]>();
        return buckets;
    }
}

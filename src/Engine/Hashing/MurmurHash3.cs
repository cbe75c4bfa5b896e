using System.Buffers.Binary;
using System.Numerics;

namespace Meteora.Engine.Hashing;

/// <summary>
/// MurmurHash3 x64_128 (Austin Appleby, public-domain reference "MurmurHash3.cpp").
/// The digest is h1 then h2, each little-endian: exactly the 16 bytes the reference
/// <c>MurmurHash3_x64_128</c> writes to its output buffer. Allocation-free.
/// </summary>
public static class MurmurHash3
{
    public const int DigestSizeBytes = 16;

    private const ulong C1 = 0x87c37b91114253d5UL;
    private const ulong C2 = 0x4cf5ad432745937fUL;

    /// <summary>Hashes <paramref name="data"/> and writes the 16-byte digest into <paramref name="digest"/>.</summary>
    public static void Hash128(ReadOnlySpan<byte> data, uint seed, Span<byte> digest)
    {
        if (digest.Length < DigestSizeBytes)
        {
            throw new ArgumentException($"digest needs {DigestSizeBytes} bytes, got {digest.Length}", nameof(digest));
        }
        (ulong h1, ulong h2) = Hash128(data, seed);
        BinaryPrimitives.WriteUInt64LittleEndian(digest, h1);
        BinaryPrimitives.WriteUInt64LittleEndian(digest[8..], h2);
    }

    /// <summary>Returns the two 64-bit halves (h1, h2) of the digest.</summary>
    public static (ulong H1, ulong H2) Hash128(ReadOnlySpan<byte> data, uint seed)
    {
        ulong h1 = seed;
        ulong h2 = seed;
        int blockCount = data.Length / 16;

        for (int i = 0; i < blockCount; i++)
        {
            ReadOnlySpan<byte> block = data.Slice(i * 16, 16);
            ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(block);
            ulong k2 = BinaryPrimitives.ReadUInt64LittleEndian(block[8..]);

            k1 *= C1; k1 = BitOperations.RotateLeft(k1, 31); k1 *= C2; h1 ^= k1;
            h1 = BitOperations.RotateLeft(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;

            k2 *= C2; k2 = BitOperations.RotateLeft(k2, 33); k2 *= C1; h2 ^= k2;
            h2 = BitOperations.RotateLeft(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
        }

        ReadOnlySpan<byte> tail = data[(blockCount * 16)..];
        ulong t1 = 0;
        ulong t2 = 0;
        // Bytes 8..14 of the tail feed k2, bytes 0..7 feed k1, each little-endian.
        for (int i = tail.Length - 1; i >= 8; i--)
        {
            t2 = (t2 << 8) | tail[i];
        }
        for (int i = Math.Min(tail.Length, 8) - 1; i >= 0; i--)
        {
            t1 = (t1 << 8) | tail[i];
        }
        if (tail.Length > 8)
        {
            t2 *= C2; t2 = BitOperations.RotateLeft(t2, 33); t2 *= C1; h2 ^= t2;
        }
        if (tail.Length > 0)
        {
            t1 *= C1; t1 = BitOperations.RotateLeft(t1, 31); t1 *= C2; h1 ^= t1;
        }

        h1 ^= (ulong)data.Length;
        h2 ^= (ulong)data.Length;
        h1 += h2;
        h2 += h1;
        h1 = FinalMix(h1);
        h2 = FinalMix(h2);
        h1 += h2;
        h2 += h1;
        return (h1, h2);
    }

    private static ulong FinalMix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}

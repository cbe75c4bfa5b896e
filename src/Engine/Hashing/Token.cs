using System.Buffers.Binary;
using System.Text;

namespace Meteora.Engine.Hashing;

/// <summary>
/// A key's position on the ring: the MurmurHash3 x64_128 digest (seed 0) of the key's UTF-8
/// bytes, read as a big-endian unsigned 128-bit integer, so the token's hex spelling is the
/// digest's hex spelling and "top bits" are the digest's first bits.
/// </summary>
public readonly record struct Token(UInt128 Value)
{
    public const uint Seed = 0;

    public static Token OfKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int byteCount = Encoding.UTF8.GetByteCount(key);
        if (byteCount > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {byteCount} bytes; the limit is {Limits.MaxKeySizeBytes}", nameof(key));
        }
        Span<byte> utf8 = stackalloc byte[byteCount]; // exact size: a fixed 1 KiB buffer would be zeroed on every call
        int written = Encoding.UTF8.GetBytes(key, utf8);
        return OfBytes(utf8[..written]);
    }

    public static Token OfBytes(ReadOnlySpan<byte> bytes)
    {
        Span<byte> digest = stackalloc byte[MurmurHash3.DigestSizeBytes];
        MurmurHash3.Hash128(bytes, Seed, digest);
        return new Token(BinaryPrimitives.ReadUInt128BigEndian(digest));
    }

    /// <summary>Partition index = the token's top log2(Q) bits. Q must be a power of two.</summary>
    public int Partition(int partitionCount)
    {
        Ring.RingLayout.RequirePowerOfTwo(partitionCount);
        int bits = System.Numerics.BitOperations.Log2((uint)partitionCount);
        return bits == 0 ? 0 : (int)(Value >> (128 - bits));
    }

    public string ToHex() => Value.ToString("x32");
}

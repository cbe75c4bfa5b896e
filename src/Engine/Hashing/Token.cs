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

    /// <summary>Keys up to this many UTF-16 chars (at most 3 UTF-8 bytes each) are encoded in one pass into a fixed stack buffer (also by <see cref="Merkle.MerkleTree.EntryHash"/>).</summary>
    internal const int ShortKeyChars = 64;

    public static Token OfKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length <= ShortKeyChars)
        {
            // One UTF-8 pass instead of a count then an encode: most keys are short (issue 11, simulator profile).
            Span<byte> shortUtf8 = stackalloc byte[ShortKeyChars * 3];
            return OfBytes(shortUtf8[..Encoding.UTF8.GetBytes(key, shortUtf8)]);
        }
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
        // The digest is h1 then h2, each little-endian; read big-endian, each half's bytes reverse.
        (ulong h1, ulong h2) = MurmurHash3.Hash128(bytes, Seed);
        return new Token(new UInt128(BinaryPrimitives.ReverseEndianness(h1), BinaryPrimitives.ReverseEndianness(h2)));
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

using System.Buffers.Binary;
using System.Text;
using Meteora.Engine;
using Meteora.Engine.Storage;

namespace Meteora.Net.Storage;

/// <summary>
/// On-disk key layout of the data column family (storage format 2): partition id as a big-endian
/// u32, then the key's token-high-64 (<see cref="StorageOrder.TokenHigh64"/>) as a big-endian u64,
/// then the key's UTF-8 bytes. Big-endian keeps each partition one contiguous range, ordered within
/// it by <see cref="StorageOrder"/>, so every Merkle leaf is one contiguous range too: a leaf is
/// answered by one seek and a short iteration, and Merkle builds walk the partition with one iterator.
/// (Format 1 had no token: partition, then key bytes.)
/// </summary>
public static class StorageKeys
{
    public const int PartitionPrefixBytes = 4;
    public const int TokenBytes = 8;
    /// <summary>Partition and token: the fixed part before the key bytes.</summary>
    public const int PrefixBytes = PartitionPrefixBytes + TokenBytes;
    public const int MaxEncodedBytes = PrefixBytes + Limits.MaxKeySizeBytes;

    /// <summary>Writes the encoded key into <paramref name="destination"/> (at least <see cref="MaxEncodedBytes"/>) and returns its length.</summary>
    public static int Encode(int partition, string key, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(key);
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {keyBytes} bytes; the limit is {Limits.MaxKeySizeBytes}", nameof(key));
        }
        EncodePrefix(partition, StorageOrder.TokenHigh64(key), destination);
        return PrefixBytes + Encoding.UTF8.GetBytes(key, destination[PrefixBytes..]);
    }

    /// <summary>
    /// Writes the 12-byte (partition, token-high-64) prefix: the first position of that token in the
    /// partition, where a range scan seeks.
    /// </summary>
    public static void EncodePrefix(int partition, ulong tokenHigh64, Span<byte> destination)
    {
        if (partition < 0) throw new ArgumentOutOfRangeException(nameof(partition), partition, "partition must be non-negative");
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)partition);
        BinaryPrimitives.WriteUInt64BigEndian(destination[PartitionPrefixBytes..], tokenHigh64);
    }

    public static (int Partition, ulong TokenHigh64, string Key) Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < PrefixBytes)
        {
            throw new InvalidDataException(
                $"stored key is {encoded.Length} bytes, shorter than its {PrefixBytes}-byte partition and token prefix");
        }
        return ((int)BinaryPrimitives.ReadUInt32BigEndian(encoded),
            BinaryPrimitives.ReadUInt64BigEndian(encoded[PartitionPrefixBytes..]),
            Encoding.UTF8.GetString(encoded[PrefixBytes..]));
    }
}

using System.Buffers.Binary;
using System.Text;
using Meteora.Engine;

namespace Meteora.Net.Storage;

/// <summary>
/// On-disk key layout of the data column family: partition id as a big-endian u32, then the key's
/// UTF-8 bytes. Big-endian keeps each partition one contiguous, ordered range (Merkle builds and
/// partition streaming scan it with one iterator).
/// </summary>
public static class StorageKeys
{
    public const int PartitionPrefixBytes = 4;
    public const int MaxEncodedBytes = PartitionPrefixBytes + Limits.MaxKeySizeBytes;

    /// <summary>Writes the encoded key into <paramref name="destination"/> (at least <see cref="MaxEncodedBytes"/>) and returns its length.</summary>
    public static int Encode(int partition, string key, Span<byte> destination)
    {
        if (partition < 0) throw new ArgumentOutOfRangeException(nameof(partition), partition, "partition must be non-negative");
        ArgumentNullException.ThrowIfNull(key);
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {keyBytes} bytes; the limit is {Limits.MaxKeySizeBytes}", nameof(key));
        }
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)partition);
        return PartitionPrefixBytes + Encoding.UTF8.GetBytes(key, destination[PartitionPrefixBytes..]);
    }

    public static (int Partition, string Key) Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < PartitionPrefixBytes)
        {
            throw new InvalidDataException($"stored key is {encoded.Length} bytes, shorter than its partition prefix");
        }
        return ((int)BinaryPrimitives.ReadUInt32BigEndian(encoded), Encoding.UTF8.GetString(encoded[PartitionPrefixBytes..]));
    }
}

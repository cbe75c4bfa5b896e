using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Handoff;
using Meteora.Engine.Versioning;

namespace Meteora.Net.Storage;

/// <summary>
/// The hints family's layout. Key: target (u32 big-endian) then sequence (u64 big-endian), so RocksDB's
/// byte order is the replay order (by target, then sequence). Value: format (u8), stored-at micros (i64),
/// key length (u16) and UTF-8 key, then the version and value as <see cref="StoredValueCodec"/> stores them.
/// Decoding rejects anything malformed: a corrupt hint must never replay as some other write.
/// </summary>
public static class HintCodec
{
    public const byte FormatVersion = 1;
    public const int KeyBytes = 4 + 8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void EncodeKey(int target, long sequence, Span<byte> destination)
    {
        if (target < 0) throw new ArgumentOutOfRangeException(nameof(target), target, "target must be non-negative");
        if (sequence < 0) throw new ArgumentOutOfRangeException(nameof(sequence), sequence, "sequence must be non-negative");
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)target);
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..], (ulong)sequence);
    }

    public static byte[] EncodeValue(Hint hint)
    {
        ArgumentNullException.ThrowIfNull(hint);
        int keyBytes = StrictUtf8.GetByteCount(hint.Key);
        if (keyBytes > Engine.Limits.MaxKeySizeBytes) throw new ArgumentException($"hint key is {keyBytes} bytes; the limit is {Engine.Limits.MaxKeySizeBytes}", nameof(hint));
        StoredValue stored = hint.AsStoredValue();
        var buffer = new byte[1 + 8 + 2 + keyBytes + StoredValueCodec.EncodedSize(stored)];
        buffer[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(1), hint.StoredAtMicros);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(9), (ushort)keyBytes);
        StrictUtf8.GetBytes(hint.Key, buffer.AsSpan(11, keyBytes));
        StoredValueCodec.Encode(stored, buffer.AsSpan(11 + keyBytes));
        return buffer;
    }

    public static Hint Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (key.Length != KeyBytes) throw new InvalidDataException($"hint key is {key.Length} bytes, expected {KeyBytes}");
        if (value.Length < 11) throw new InvalidDataException($"hint record is {value.Length} bytes, shorter than its header");
        if (value[0] != FormatVersion) throw new InvalidDataException($"hint record has format {value[0]}, expected {FormatVersion}");
        uint target = BinaryPrimitives.ReadUInt32BigEndian(key);
        ulong sequence = BinaryPrimitives.ReadUInt64BigEndian(key[4..]);
        if (target > int.MaxValue || sequence > long.MaxValue) throw new InvalidDataException($"hint key names target {target}, sequence {sequence}");
        long storedAt = BinaryPrimitives.ReadInt64BigEndian(value[1..]);
        int keyBytes = BinaryPrimitives.ReadUInt16BigEndian(value[9..]);
        if (keyBytes > Engine.Limits.MaxKeySizeBytes || 11 + keyBytes > value.Length) throw new InvalidDataException($"hint record's key length {keyBytes} does not fit");
        string hintKey;
        try
        {
            hintKey = StrictUtf8.GetString(value.Slice(11, keyBytes));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException("hint record's key is not valid UTF-8", e);
        }
        StoredValue stored = StoredValueCodec.Decode(value[(11 + keyBytes)..]);
        return new Hint((int)target, (long)sequence, hintKey, stored.Version, stored.Value, storedAt);
    }
}

using System.Buffers.Binary;
using Meteora.Engine;
using Meteora.Engine.Versioning;

namespace Meteora.Net.Storage;

/// <summary>
/// On-disk encoding of a <see cref="StoredValue"/>: format byte (1), version timestamp (i64 BE),
/// version node (u32 BE), kind (0 tombstone, 1 value), then the value bytes. Tombstones are stored
/// like values so that a delete is as durable as a write and anti-entropy cannot resurrect the key.
/// </summary>
public static class StoredValueCodec
{
    public const byte FormatVersion = 1;
    public const int HeaderBytes = 1 + 8 + 4 + 1;
    private const byte KindTombstone = 0;
    private const byte KindValue = 1;

    public static int EncodedSize(StoredValue value) => HeaderBytes + (value.Value?.Length ?? 0);

    public static byte[] Encode(StoredValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var buffer = new byte[EncodedSize(value)];
        Encode(value, buffer);
        return buffer;
    }

    /// <summary>Writes the record into <paramref name="destination"/>; returns its length.</summary>
    public static int Encode(StoredValue value, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Value is { Length: > Limits.MaxValueSizeBytes })
        {
            throw new ArgumentException($"value is {value.Value.Length} bytes; the limit is {Limits.MaxValueSizeBytes}", nameof(value));
        }
        int size = EncodedSize(value);
        if (destination.Length < size)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, the record needs {size}", nameof(destination));
        }
        destination[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(destination[1..], value.Version.TimestampMicros);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], value.Version.Node);
        destination[13] = value.Value is null ? KindTombstone : KindValue;
        value.Value?.CopyTo(destination[HeaderBytes..]);
        return size;
    }

    /// <summary>Decodes a stored record; corrupt records throw rather than being read as some other value.</summary>
    public static StoredValue Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < HeaderBytes)
        {
            throw new InvalidDataException($"stored value is {encoded.Length} bytes, shorter than its {HeaderBytes}-byte header");
        }
        if (encoded[0] != FormatVersion)
        {
            throw new InvalidDataException($"stored value has format {encoded[0]}, expected {FormatVersion}");
        }
        var version = new WriteVersion(BinaryPrimitives.ReadInt64BigEndian(encoded[1..]), BinaryPrimitives.ReadUInt32BigEndian(encoded[9..]));
        return encoded[13] switch
        {
            KindTombstone when encoded.Length == HeaderBytes => StoredValue.Tombstone(version),
            KindTombstone => throw new InvalidDataException($"stored tombstone carries {encoded.Length - HeaderBytes} value bytes"),
            KindValue => new StoredValue(version, encoded[HeaderBytes..].ToArray()),
            _ => throw new InvalidDataException($"stored value has unknown kind {encoded[13]}"),
        };
    }
}

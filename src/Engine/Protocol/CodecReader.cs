using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>Reads the fields of <see cref="MessageCodec"/>'s layout, rejecting anything malformed with a <see cref="ProtocolException"/>.</summary>
internal ref struct CodecReader(ReadOnlySpan<byte> buffer, KeyInterner? keys = null)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private readonly KeyInterner? _keys = keys;
    private int _position;

    public readonly int Remaining => _buffer.Length - _position;

    /// <param name="part">Which part of <paramref name="field"/> ("count", "length"), or null. Kept apart and
    /// joined only into the failure message: joining it up front ran for every decoded list (issue 11).</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count, string field, string? part = null)
    {
        // One unsigned compare also catches a negative count. The throw lives in its own method so this
        // one inlines into every field read (3 million calls in a 100,000-op simulation, issue 11).
        if ((uint)count > (uint)Remaining) ThrowTruncated(count, field, part);
        ReadOnlySpan<byte> slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private readonly void ThrowTruncated(int count, string field, string? part)
    {
        string what = part is null ? field : $"{field} {part}";
        throw new ProtocolException($"frame truncated reading {what}: needs {count} bytes, {Remaining} left");
    }

    public byte U8(string field) => Take(1, field)[0];

    public bool Bool(string field)
    {
        byte b = U8(field);
        if (b > 1) ThrowNotBool(field, b);
        return b == 1;

        // Messages in their own methods: their builders' locals cost every read a larger frame (issue 11).
        static void ThrowNotBool(string field, byte b) => throw new ProtocolException($"{field} must be 0 or 1, got {b}");
    }

    public long I64(string field) => BinaryPrimitives.ReadInt64BigEndian(Take(8, field));

    public int I32(string field) => BinaryPrimitives.ReadInt32BigEndian(Take(4, field));

    public UInt128 U128(string field) => BinaryPrimitives.ReadUInt128BigEndian(Take(16, field));

    public int NonNegative(string field)
    {
        int v = I32(field);
        if (v < 0) throw new ProtocolException($"{field} is negative ({v})");
        return v;
    }

    public long NonNegativeI64(string field)
    {
        long v = I64(field);
        if (v < 0) throw new ProtocolException($"{field} is negative ({v})");
        return v;
    }

    public int Depth()
    {
        byte depth = U8("depth");
        if (depth > Merkle.MerkleTree.MaxDepth) throw new ProtocolException($"Merkle depth {depth} is over {Merkle.MerkleTree.MaxDepth}");
        return depth;
    }

    /// <summary>An item count, checked against the batch limit and the bytes left (each item needs at least minItemBytes).</summary>
    public int Count(string field, int minItemBytes)
    {
        int count = BinaryPrimitives.ReadInt32BigEndian(Take(4, field, "count"));
        if (count < 0 || count > MessageCodec.MaxRepairBatch) throw new ProtocolException($"{field} count {count} is outside 0..{MessageCodec.MaxRepairBatch}");
        if ((long)count * minItemBytes > Remaining) throw new ProtocolException($"frame truncated: {count} {field} cannot fit in {Remaining} bytes");
        return count;
    }

    public int[] Ints(string field)
    {
        int count = Count(field, 4);
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = I32(field);
            if (values[i] < 0) throw new ProtocolException($"{field} contains a negative value ({values[i]})");
        }
        return values;
    }

    /// <summary>A length-prefixed (u32) byte string; the length must fit the rest of the frame.</summary>
    public byte[] Blob(string field)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(Take(4, field, "length"));
        if (length < 0 || length > Remaining) throw new ProtocolException($"{field} length {length} exceeds the {Remaining} bytes left");
        return Take(length, field).ToArray();
    }

    public string Key()
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(Take(2, "key length"));
        if (length > Limits.MaxKeySizeBytes)
        {
            throw new ProtocolException($"key is {length} bytes; the limit is {Limits.MaxKeySizeBytes}");
        }
        ReadOnlySpan<byte> bytes = Take(length, "key");
        try
        {
            return _keys is null ? MessageCodec.StrictUtf8.GetString(bytes) : _keys.GetOrDecode(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException("key is not valid UTF-8");
        }
    }

    public WriteVersion Version()
    {
        long micros = BinaryPrimitives.ReadInt64BigEndian(Take(8, "version timestamp"));
        uint node = BinaryPrimitives.ReadUInt32BigEndian(Take(4, "version node"));
        if (micros < 0) throw new ProtocolException($"version timestamp is negative ({micros})");
        return new WriteVersion(micros, node);
    }

    public byte[]? Value()
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(Take(4, "value length"));
        if (length == -1) return null;
        if (length < -1 || length > Limits.MaxValueSizeBytes) ThrowBadLength(length);
        return Take(length, "value").ToArray();

        static void ThrowBadLength(int length) => throw new ProtocolException(length < 0
            ? $"value length is negative ({length})"
            : $"value is {length} bytes; the limit is {Limits.MaxValueSizeBytes}");
    }
}

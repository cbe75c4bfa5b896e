using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>Writes the fields of <see cref="MessageCodec"/>'s layout, big-endian, into a span sized by EncodedSize.</summary>
internal ref struct CodecWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    public int Position;

    public void U8(byte v) => _buffer[Position++] = v;
    public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);
    public void I64(long v) { BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], v); Position += 8; }
    public void I32(int v) { BinaryPrimitives.WriteInt32BigEndian(_buffer[Position..], v); Position += 4; }
    public void U128(UInt128 v) { BinaryPrimitives.WriteUInt128BigEndian(_buffer[Position..], v); Position += 16; }

    public void Ints(int[] values)
    {
        I32(values.Length);
        foreach (int v in values) I32(v);
    }

    /// <summary>A length-prefixed (u32) byte string.</summary>
    public void Blob(byte[] bytes)
    {
        I32(bytes.Length);
        bytes.CopyTo(_buffer[Position..]);
        Position += bytes.Length;
    }

    public void Key(string key)
    {
        int n = MessageCodec.StrictUtf8.GetBytes(key, _buffer[(Position + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], (ushort)n);
        Position += 2 + n;
    }

    public void Version(WriteVersion v)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], v.TimestampMicros);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[(Position + 8)..], v.Node);
        Position += 12;
    }

    public void Value(byte[]? value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[Position..], value is null ? -1 : value.Length);
        Position += 4;
        if (value is not null)
        {
            value.CopyTo(_buffer[Position..]);
            Position += value.Length;
        }
    }
}

using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Protocol;

/// <summary>
/// The one binary encoding of every <see cref="Message"/>, used on the wire and round-tripped by the
/// simulator. Layout: kind (u8), then the fields in declaration order, big-endian:
/// i64 request ids, key = u16 length + UTF-8, version = i64 micros + u32 node,
/// value = i32 length (-1 for a tombstone) + bytes, bool = one byte 0 or 1.
/// Decoding rejects anything malformed with a <see cref="ProtocolException"/> naming the problem,
/// including trailing bytes, so a frame has exactly one meaning.
/// </summary>
public static class MessageCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static int EncodedSize(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message switch
        {
            ReplicaWrite m => 1 + 8 + KeySize(m.Key) + VersionSize + ValueSize(m.Value),
            ReplicaWriteAck => 1 + 8 + 1,
            ReplicaRead m => 1 + 8 + KeySize(m.Key),
            ReplicaReadReply m => 1 + 8 + 1 + VersionSize + ValueSize(m.Value),
            _ => throw new ArgumentException($"unknown message type {message.GetType().Name}", nameof(message)),
        };
    }

    public static byte[] Encode(Message message)
    {
        var buffer = new byte[EncodedSize(message)];
        int written = Encode(message, buffer);
        if (written != buffer.Length)
        {
            throw new InvalidOperationException($"codec wrote {written} bytes, expected {buffer.Length}");
        }
        return buffer;
    }

    /// <summary>Writes <paramref name="message"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(Message message, Span<byte> destination)
    {
        int size = EncodedSize(message);
        if (size > Limits.MaxMessageSizeBytes)
        {
            throw new ArgumentException($"message is {size} bytes; the limit is {Limits.MaxMessageSizeBytes}", nameof(message));
        }
        if (destination.Length < size)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, message needs {size}", nameof(destination));
        }
        var w = new Writer(destination);
        w.U8((byte)message.Kind);
        switch (message)
        {
            case ReplicaWrite m:
                w.I64(m.RequestId); w.Key(m.Key); w.Version(m.Version); w.Value(m.Value);
                break;
            case ReplicaWriteAck m:
                w.I64(m.RequestId); w.Bool(m.Ok);
                break;
            case ReplicaRead m:
                w.I64(m.RequestId); w.Key(m.Key);
                break;
            case ReplicaReadReply m:
                w.I64(m.RequestId); w.Bool(m.Found); w.Version(m.Version); w.Value(m.Value);
                break;
        }
        return w.Position;
    }

    public static Message Decode(ReadOnlySpan<byte> frame)
    {
        if (frame.Length == 0) throw new ProtocolException("empty frame");
        if (frame.Length > Limits.MaxMessageSizeBytes)
        {
            throw new ProtocolException($"frame is {frame.Length} bytes; the limit is {Limits.MaxMessageSizeBytes}");
        }
        var r = new Reader(frame);
        byte kind = r.U8("kind");
        Message message = (MessageKind)kind switch
        {
            MessageKind.ReplicaWrite => new ReplicaWrite(r.I64("requestId"), r.Key(), r.Version(), r.Value()),
            MessageKind.ReplicaWriteAck => new ReplicaWriteAck(r.I64("requestId"), r.Bool("ok")),
            MessageKind.ReplicaRead => new ReplicaRead(r.I64("requestId"), r.Key()),
            MessageKind.ReplicaReadReply => DecodeReadReply(ref r),
            _ => throw new ProtocolException($"unknown message kind {kind}"),
        };
        if (r.Remaining != 0)
        {
            throw new ProtocolException($"{r.Remaining} trailing bytes after a {(MessageKind)kind} message");
        }
        return message;
    }

    private static ReplicaReadReply DecodeReadReply(ref Reader r)
    {
        long requestId = r.I64("requestId");
        bool found = r.Bool("found");
        WriteVersion version = r.Version();
        byte[]? value = r.Value();
        if (!found && (value is not null || !version.IsZero))
        {
            throw new ProtocolException("read reply says not found but carries a version or value");
        }
        return new ReplicaReadReply(requestId, found, version, value);
    }

    private const int VersionSize = 8 + 4;

    private static int KeySize(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int bytes = StrictUtf8.GetByteCount(key);
        if (bytes > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {bytes} bytes; the limit is {Limits.MaxKeySizeBytes}");
        }
        return 2 + bytes;
    }

    private static int ValueSize(byte[]? value)
    {
        if (value is not null && value.Length > Limits.MaxValueSizeBytes)
        {
            throw new ArgumentException($"value is {value.Length} bytes; the limit is {Limits.MaxValueSizeBytes}");
        }
        return 4 + (value?.Length ?? 0);
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        public int Position;

        public void U8(byte v) => _buffer[Position++] = v;
        public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);
        public void I64(long v) { BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], v); Position += 8; }

        public void Key(string key)
        {
            int n = StrictUtf8.GetBytes(key, _buffer[(Position + 2)..]);
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

    private ref struct Reader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _position;

        public readonly int Remaining => _buffer.Length - _position;

        private ReadOnlySpan<byte> Take(int count, string field)
        {
            if (count < 0 || Remaining < count)
            {
                throw new ProtocolException($"frame truncated reading {field}: needs {count} bytes, {Remaining} left");
            }
            ReadOnlySpan<byte> slice = _buffer.Slice(_position, count);
            _position += count;
            return slice;
        }

        public byte U8(string field) => Take(1, field)[0];

        public bool Bool(string field)
        {
            byte b = U8(field);
            return b switch
            {
                0 => false,
                1 => true,
                _ => throw new ProtocolException($"{field} must be 0 or 1, got {b}"),
            };
        }

        public long I64(string field) => BinaryPrimitives.ReadInt64BigEndian(Take(8, field));

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
                return StrictUtf8.GetString(bytes);
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
            if (length < -1) throw new ProtocolException($"value length is negative ({length})");
            if (length > Limits.MaxValueSizeBytes)
            {
                throw new ProtocolException($"value is {length} bytes; the limit is {Limits.MaxValueSizeBytes}");
            }
            return Take(length, "value").ToArray();
        }
    }
}

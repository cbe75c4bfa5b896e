using System.Buffers;
using System.Buffers.Binary;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;
using Meteora.Net.Transport;

namespace Meteora.Tests.Net.Transport;

public sealed class PeerFramesTests
{
    [Fact]
    public void FramesSplitAcrossReadsAreReassembled()
    {
        byte[] payload = MessageCodec.Encode(new ReplicaWrite(7, "key", new WriteVersion(1, 2), [1, 2, 3]));
        byte[] stream = [.. Prefix(payload.Length), .. payload, .. Prefix(payload.Length), .. payload];

        var partial = new ReadOnlySequence<byte>(stream, 0, 10);
        Assert.False(PeerFrames.TryReadFrame(ref partial, out _));

        var whole = new ReadOnlySequence<byte>(stream);
        Assert.True(PeerFrames.TryReadFrame(ref whole, out ReadOnlySequence<byte> first));
        Assert.Equal(new ReplicaWrite(7, "key", new WriteVersion(1, 2), [1, 2, 3]), MessageCodec.Decode(first.ToArray()));
        Assert.True(PeerFrames.TryReadFrame(ref whole, out _));
        Assert.True(whole.IsEmpty);
    }

    [Theory]
    [InlineData(0u, "empty frame")]
    [InlineData((uint)PeerFrames.MaxPayloadBytes + 1, "exceeds")]
    [InlineData(uint.MaxValue, "exceeds")]
    public void BadLengthsAreRejectedBeforeTheBodyArrives(uint length, string error)
    {
        var buffer = new ReadOnlySequence<byte>(Prefix(length));
        PeerFrameException e = Assert.Throws<PeerFrameException>(() => PeerFrames.TryReadFrame(ref buffer, out _));
        Assert.Contains(error, e.Message);
    }

    [Theory]
    [InlineData("1=127.0.0.1:7001", 1, "127.0.0.1", 7001)]
    [InlineData(" 12=node-b.local:80 ", 12, "node-b.local", 80)]
    [InlineData("2=[::1]:7002", 2, "::1", 7002)]
    public void PeerEndpointsParse(string text, int id, string host, int port)
    {
        Assert.Equal(new PeerEndpoint(id, host, port), PeerEndpoint.Parse(text));
    }

    [Theory]
    [InlineData("127.0.0.1:7001")]
    [InlineData("x=127.0.0.1:7001")]
    [InlineData("-1=127.0.0.1:7001")]
    [InlineData("1=127.0.0.1")]
    [InlineData("1=127.0.0.1:0")]
    [InlineData("1=127.0.0.1:70000")]
    [InlineData("1=:7001")]
    public void BadPeerEndpointsAreRejected(string text)
    {
        Assert.Throws<FormatException>(() => PeerEndpoint.Parse(text));
    }

    private static byte[] Prefix(long length)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)length);
        return prefix;
    }
}

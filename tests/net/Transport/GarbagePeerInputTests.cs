using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Meteora.Net.Transport;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Transport;

public sealed class GarbagePeerInputTests(ThreeNodeClusterFixture fixture) : IClassFixture<ThreeNodeClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task GarbageOnThePeerPortClosesThatConnectionAndTheNodeKeepsServing()
    {
        NodeProcess target = Cluster[0];
        long rejectedBefore = await Rejected(target);

        // Random bytes, an HTTP request, an oversized length prefix, a bad handshake, a good
        // handshake followed by an undecodable frame, and a truncated frame.
        var random = new Random(42);
        byte[] noise = new byte[64 * 1024];
        random.NextBytes(noise);
        await SendAndExpectClose(target.PeerPort, noise);
        await SendAndExpectClose(target.PeerPort, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        await SendAndExpectClose(target.PeerPort, [0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
        await SendAndExpectClose(target.PeerPort, Frame(Enumerable.Repeat((byte)0xAB, PeerHandshake.HelloBytes).ToArray()));
        byte[] wrongTarget = PeerHandshake.Frame(PeerHandshake.EncodeHello(new PeerHandshake.Hello(1, 5, 64, PeerHandshake.NewNonce())));
        await SendAndExpectClose(target.PeerPort, wrongTarget);
        // Since protocol 3 an id outside the ring is challenged (a joining node is in no ring yet), so a
        // stranger is refused by its missing proof of the secret, not by its id.
        byte[] stranger = [.. PeerHandshake.Frame(PeerHandshake.EncodeHello(new PeerHandshake.Hello(77, 0, 64, PeerHandshake.NewNonce()))),
            .. PeerHandshake.Frame(new byte[PeerHandshake.ProofBytes])];
        long authFailuresBefore = await AuthenticationFailures(target);
        await SendAndCountUntilClose(target.PeerPort, stranger);
        Assert.True(await AuthenticationFailures(target) > authFailuresBefore, $"the stranger's missing proof was not counted:\n{target.Output}");

        // A fully authenticated connection that then sends an undecodable frame is closed too.
        using (var client = new RawPeerClient())
        {
            await client.ConnectAsync(target.PeerPort);
            await client.HandshakeAsync(Cluster.SecretKey, fromNode: 1, toNode: 0, partitions: 64);
            await client.SendAsync(Frame([0xEE, 1, 2, 3]));
            Assert.True(await client.WaitForCloseAsync(), "the node kept a connection open after an undecodable frame");
        }

        long rejectedAfter = await Rejected(target);
        Assert.True(rejectedAfter - rejectedBefore >= 7, $"rejected {rejectedAfter - rejectedBefore} connections:\n{target.Output}");
        Assert.Contains("closing peer connection", target.Output);

        // The node still coordinates and replicates (W=3 needs both real peers).
        var (status, body) = await Api.SetAsync(target.Http, "after-garbage", "fine", w: 3);
        Assert.True(status == 200, body.ToString());
        var (getStatus, got) = await Api.GetAsync(Cluster[1].Http, "after-garbage", r: 3);
        Assert.Equal(200, getStatus);
        Assert.Equal("fine", got.GetProperty("value").GetString());
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Sends the bytes and waits until the node closes the connection (read returns 0 or resets).</summary>
    private static async Task SendAndExpectClose(int port, byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        try
        {
            await stream.WriteAsync(bytes);
        }
        catch (IOException)
        {
            return; // closed while we were still writing: also a close
        }
        using var timeout = new CancellationTokenSource(10_000);
        try
        {
            int read = await stream.ReadAsync(new byte[16], timeout.Token);
            Assert.Equal(0, read);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Sends the bytes; returns how many bytes the node answered before it closed the connection (a reset may discard them).</summary>
    private static async Task<int> SendAndCountUntilClose(int port, byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(bytes);
        using var timeout = new CancellationTokenSource(10_000);
        int total = 0;
        var buffer = new byte[256];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0) total += read;
        }
        catch (IOException)
        {
        }
        return total;
    }

    private static async Task<long> AuthenticationFailures(NodeProcess node)
    {
        using JsonDocument metrics = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/metrics"));
        return metrics.RootElement.GetProperty("peerAuthenticationFailures").GetInt64();
    }

    private static async Task<long> Rejected(NodeProcess node)
    {
        using JsonDocument metrics = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/metrics"));
        return metrics.RootElement.GetProperty("peerConnectionsRejected").GetInt64();
    }
}

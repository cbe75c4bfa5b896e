using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Meteora.Net.Security;

namespace Meteora.Net.Transport;

/// <summary>
/// Opens an authenticated connection to one peer: TCP connect, TLS when configured, then the dialer's
/// side of <see cref="PeerHandshake"/>. Returns the stream messages are written to; throws on any failure
/// (the link retries with backoff).
/// </summary>
public sealed class PeerDialer(PeerEndpoint endpoint, int localNodeId, int partitionCount, ClusterSecret secret, TlsSettings? tls)
{
    public const int ConnectTimeoutMs = 1_000;

    /// <summary>
    /// Linux TCP_USER_TIMEOUT (RFC 5482): a connection whose sent data stays unacknowledged this long
    /// is aborted, so after a partition heals the link reconnects instead of waiting out TCP's
    /// retransmission backoff on the old connection (seen by the nemesis, partition faults). Heartbeats
    /// keep data flowing, so a dead peer is noticed within about this time.
    /// </summary>
    public const int UnacknowledgedTimeoutMs = 5_000;

    private const int IpProtocolTcp = 6;
    private const int TcpUserTimeoutOption = 18;

    public PeerEndpoint Endpoint => endpoint;

    public async Task<Stream> ConnectAsync(CancellationToken stop)
    {
        (Stream stream, _, _) = await ConnectAuthenticatedAsync(stop).ConfigureAwait(false);
        return stream;
    }

    /// <summary>
    /// The join probe (<see cref="PeerHandshake.AnyNode"/> as receiver): runs the handshake with
    /// whichever node listens at the endpoint, reads its authenticated <see cref="PeerProbe"/> reply and
    /// closes. Throws like <see cref="ConnectAsync"/> when the node cannot be reached or does not prove the secret.
    /// </summary>
    public async Task<PeerProbe> ProbeAsync(CancellationToken stop)
    {
        if (endpoint.NodeId != PeerHandshake.AnyNode) throw new InvalidOperationException("a probe dials any node: its endpoint id must be AnyNode");
        (Stream stream, byte[] hello, byte[] listenerNonce) = await ConnectAuthenticatedAsync(stop).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(PeerHandshake.TimeoutMs);
            byte[] reply = await ReadBoundedFrameAsync(stream, PeerProbe.MaxBytes, timeout.Token).ConfigureAwait(false);
            return PeerProbe.Decode(secret.Key, hello, listenerNonce, reply);
        }
    }

    private async Task<(Stream Stream, byte[] Hello, byte[] ListenerNonce)> ConnectAuthenticatedAsync(CancellationToken stop)
    {
        Socket socket = await ConnectSocketAsync(stop).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(PeerHandshake.TimeoutMs);
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls.ClientOptions(endpoint.Host), timeout.Token).ConfigureAwait(false);
            }
            (byte[] hello, byte[] nonce) = await HandshakeAsync(stream, timeout.Token).ConfigureAwait(false);
            return (stream, hello, nonce);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<(byte[] Hello, byte[] ListenerNonce)> HandshakeAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] hello = PeerHandshake.EncodeHello(new PeerHandshake.Hello(localNodeId, endpoint.NodeId, partitionCount, PeerHandshake.NewNonce()));
        await stream.WriteAsync(PeerHandshake.Frame(hello), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[] challenge = await ReadFrameAsync(stream, PeerHandshake.ChallengeBytes, cancellationToken).ConfigureAwait(false);
        byte[] listenerNonce = PeerHandshake.VerifyChallenge(secret.Key, hello, challenge);
        await stream.WriteAsync(PeerHandshake.Frame(PeerHandshake.DialerProof(secret.Key, hello, listenerNonce)), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        PeerHandshake.VerifyAccept(await ReadFrameAsync(stream, PeerHandshake.AcceptBytes, cancellationToken).ConfigureAwait(false));
        return (hello, listenerNonce);
    }

    /// <summary>Reads one frame whose payload is at most <paramref name="maxPayloadBytes"/> long.</summary>
    public static async Task<byte[]> ReadBoundedFrameAsync(Stream stream, int maxPayloadBytes, CancellationToken cancellationToken)
    {
        var prefix = new byte[PeerFrames.LengthPrefixBytes];
        await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length > maxPayloadBytes) throw new PeerFrameException($"frame is {length} bytes, at most {maxPayloadBytes} expected");
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        return payload;
    }

    /// <summary>Reads one frame whose payload must be exactly <paramref name="payloadBytes"/> long.</summary>
    public static async Task<byte[]> ReadFrameAsync(Stream stream, int payloadBytes, CancellationToken cancellationToken)
    {
        var prefix = new byte[PeerFrames.LengthPrefixBytes];
        await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length != payloadBytes) throw new PeerFrameException($"handshake frame is {length} bytes, expected {payloadBytes}");
        var payload = new byte[payloadBytes];
        await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        return payload;
    }

    /// <summary>A TCP socket for a peer link: no Nagle delay, and on Linux the unacknowledged-data timeout.</summary>
    public static Socket NewSocket()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(IpProtocolTcp, TcpUserTimeoutOption, BitConverter.GetBytes(UnacknowledgedTimeoutMs));
        }
        return socket;
    }

    /// <summary>The socket's TCP_USER_TIMEOUT in ms (Linux), for tests.</summary>
    public static int UnacknowledgedTimeoutOf(Socket socket)
    {
        var value = new byte[4];
        socket.GetRawSocketOption(IpProtocolTcp, TcpUserTimeoutOption, value);
        return BitConverter.ToInt32(value);
    }

    private async Task<Socket> ConnectSocketAsync(CancellationToken stop)
    {
        Socket socket = NewSocket();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ConnectTimeoutMs);
        try
        {
            EndPoint target = IPAddress.TryParse(endpoint.Host, out IPAddress? address)
                ? new IPEndPoint(address, endpoint.Port)
                : new DnsEndPoint(endpoint.Host, endpoint.Port);
            await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

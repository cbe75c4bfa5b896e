using System.Net;
using System.Net.Sockets;
using Meteora.Net.Transport;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>
/// A hand-driven dialer for tests: performs the handshake step by step over plain TCP and keeps every
/// byte it sent, so a test can replay a recorded handshake or send garbage after a good one.
/// </summary>
public sealed class RawPeerClient : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream? _stream;

    public List<byte[]> Sent { get; } = new();

    public NetworkStream Stream => _stream ?? throw new InvalidOperationException("not connected");

    public async Task ConnectAsync(int port)
    {
        await _client.ConnectAsync(IPAddress.Loopback, port);
        _stream = _client.GetStream();
    }

    public async Task SendAsync(byte[] bytes)
    {
        Sent.Add(bytes);
        await Stream.WriteAsync(bytes);
    }

    /// <summary>Runs the dialer's side with <paramref name="secret"/>; throws if the listener refuses or fails its proof.</summary>
    public async Task HandshakeAsync(byte[] secret, int fromNode, int toNode, int partitions)
    {
        using var timeout = new CancellationTokenSource(10_000);
        byte[] hello = PeerHandshake.EncodeHello(new PeerHandshake.Hello(fromNode, toNode, partitions, PeerHandshake.NewNonce()));
        await SendAsync(PeerHandshake.Frame(hello));
        byte[] challenge = await PeerDialer.ReadFrameAsync(Stream, PeerHandshake.ChallengeBytes, timeout.Token);
        byte[] nonce = PeerHandshake.VerifyChallenge(secret, hello, challenge);
        await SendAsync(PeerHandshake.Frame(PeerHandshake.DialerProof(secret, hello, nonce)));
        PeerHandshake.VerifyAccept(await PeerDialer.ReadFrameAsync(Stream, PeerHandshake.AcceptBytes, timeout.Token));
    }

    /// <summary>Waits until the node closes the connection; false if it is still open after <paramref name="timeoutMs"/>.</summary>
    public async Task<bool> WaitForCloseAsync(int timeoutMs = 10_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                int read = await Stream.ReadAsync(buffer, timeout.Token);
                if (read == 0) return true;
            }
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}

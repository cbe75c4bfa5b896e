using System.Buffers.Binary;
using System.Text;
using Meteora.Net.Transport;

namespace Meteora.Tests.Net.Transport;

public sealed class PeerHandshakeTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("correct horse battery staple!!");
    private static readonly byte[] OtherSecret = Encoding.UTF8.GetBytes("another cluster's secret value");

    private static byte[] Hello(int from = 3, int to = 5) =>
        PeerHandshake.EncodeHello(new PeerHandshake.Hello(from, to, 128, PeerHandshake.NewNonce()));

    [Fact]
    public void HelloRoundTripsAndRejectsOtherProtocols()
    {
        byte[] nonce = PeerHandshake.NewNonce();
        byte[] hello = PeerHandshake.EncodeHello(new PeerHandshake.Hello(3, 5, 128, nonce));
        PeerHandshake.Hello decoded = PeerHandshake.DecodeHello(hello);
        Assert.Equal((3, 5, 128), (decoded.FromNode, decoded.ToNode, decoded.PartitionCount));
        Assert.Equal(nonce, decoded.Nonce);

        byte[] badMagic = (byte[])hello.Clone();
        badMagic[0] ^= 0xFF;
        Assert.Contains("magic", Assert.Throws<PeerFrameException>(() => PeerHandshake.DecodeHello(badMagic)).Message);
        byte[] newer = (byte[])hello.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(newer.AsSpan(4), 99);
        Assert.Contains("protocol 99", Assert.Throws<PeerFrameException>(() => PeerHandshake.DecodeHello(newer)).Message);
        Assert.Throws<PeerFrameException>(() => PeerHandshake.DecodeHello(hello.AsSpan(1)));
    }

    [Fact]
    public void BothSidesWithTheSameSecretAgree()
    {
        byte[] hello = Hello();
        byte[] listenerNonce = PeerHandshake.NewNonce();
        byte[] challenge = PeerHandshake.EncodeChallenge(Secret, hello, listenerNonce);
        Assert.Equal(listenerNonce, PeerHandshake.VerifyChallenge(Secret, hello, challenge));
        byte[] proof = PeerHandshake.DialerProof(Secret, hello, listenerNonce);
        PeerHandshake.VerifyDialerProof(Secret, hello, listenerNonce, proof);
        PeerHandshake.VerifyAccept(PeerHandshake.EncodeAccept());
    }

    [Fact]
    public void AnotherSecretFailsInBothDirections()
    {
        byte[] hello = Hello();
        byte[] listenerNonce = PeerHandshake.NewNonce();
        // The dialer notices a listener without the secret...
        byte[] challenge = PeerHandshake.EncodeChallenge(OtherSecret, hello, listenerNonce);
        Assert.Throws<PeerAuthenticationException>(() => PeerHandshake.VerifyChallenge(Secret, hello, challenge));
        // ...and the listener notices a dialer without it.
        byte[] proof = PeerHandshake.DialerProof(OtherSecret, hello, listenerNonce);
        Assert.Throws<PeerAuthenticationException>(() => PeerHandshake.VerifyDialerProof(Secret, hello, listenerNonce, proof));
    }

    [Fact]
    public void AProofIsBoundToItsNonceItsHelloAndItsDirection()
    {
        byte[] hello = Hello();
        byte[] listenerNonce = PeerHandshake.NewNonce();
        byte[] proof = PeerHandshake.DialerProof(Secret, hello, listenerNonce);

        // Replayed against a fresh listener nonce (a recorded handshake on a new connection).
        Assert.Throws<PeerAuthenticationException>(() => PeerHandshake.VerifyDialerProof(Secret, hello, PeerHandshake.NewNonce(), proof));
        // Claiming another identity with the same proof.
        Assert.Throws<PeerAuthenticationException>(() => PeerHandshake.VerifyDialerProof(Secret, Hello(from: 4), listenerNonce, proof));
        // Reflecting the listener's own proof back as the dialer's.
        byte[] challenge = PeerHandshake.EncodeChallenge(Secret, hello, listenerNonce);
        byte[] listenerProof = challenge.AsSpan(PeerHandshake.NonceBytes).ToArray();
        Assert.Throws<PeerAuthenticationException>(() => PeerHandshake.VerifyDialerProof(Secret, hello, listenerNonce, listenerProof));
    }

    [Fact]
    public void TheSecretNeverAppearsOnTheWire()
    {
        byte[] hello = Hello();
        byte[] listenerNonce = PeerHandshake.NewNonce();
        byte[] wire = [.. hello, .. PeerHandshake.EncodeChallenge(Secret, hello, listenerNonce), .. PeerHandshake.DialerProof(Secret, hello, listenerNonce)];
        Assert.Equal(-1, wire.AsSpan().IndexOf(Secret.AsSpan(0, 8)));
    }

    [Fact]
    public void PeerSocketsGiveUpOnUnacknowledgedDataAfterTheTimeout()
    {
        Assert.True(OperatingSystem.IsLinux(), "the peer transport's TCP_USER_TIMEOUT is Linux-only; these tests run on Linux");
        using System.Net.Sockets.Socket socket = PeerDialer.NewSocket();
        Assert.Equal(PeerDialer.UnacknowledgedTimeoutMs, PeerDialer.UnacknowledgedTimeoutOf(socket));
        Assert.True(socket.NoDelay);
    }
}

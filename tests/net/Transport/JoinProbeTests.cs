using Meteora.Engine.Membership;
using Meteora.Net.Security;
using Meteora.Net.Transport;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Transport;

/// <summary>Protocol 3's join probe: a hello to "any node" learns, authenticated, who listens and what its ring says of the dialer.</summary>
public sealed class JoinProbeTests(ThreeNodeClusterFixture fixture) : IClassFixture<ThreeNodeClusterFixture>
{
    private static readonly byte[] Secret = "0123456789abcdef0123456789abcdef"u8.ToArray();

    [Fact]
    public void AProbeReplyIsBoundToItsHandshakeAndTheSecret()
    {
        byte[] hello = PeerHandshake.EncodeHello(new PeerHandshake.Hello(7, PeerHandshake.AnyNode, 64, PeerHandshake.NewNonce()));
        byte[] nonce = PeerHandshake.NewNonce();
        var reply = new PeerProbe(2, 64, 3, 41, MemberStatus.Joining, "10.0.0.7:7000");
        byte[] wire = reply.Encode(Secret, hello, nonce);
        Assert.Equal(reply, PeerProbe.Decode(Secret, hello, nonce, wire));

        Assert.Throws<PeerAuthenticationException>(() => PeerProbe.Decode("another secret, 32 bytes long!!!"u8.ToArray(), hello, nonce, wire));
        Assert.Throws<PeerAuthenticationException>(() => PeerProbe.Decode(Secret, hello, PeerHandshake.NewNonce(), wire)); // replayed on another connection
        byte[] tampered = (byte[])wire.Clone();
        tampered[7] ^= 1; // another listener id
        Assert.Throws<PeerAuthenticationException>(() => PeerProbe.Decode(Secret, hello, nonce, tampered));
        Assert.Throws<PeerFrameException>(() => PeerProbe.Decode(Secret, hello, nonce, wire.AsSpan(0, wire.Length - 1)));
        Assert.Equal(PeerHandshake.AnyNode, PeerHandshake.DecodeHello(hello).ToNode);
    }

    [Fact]
    public async Task ANodeAnswersAProbeWithItsIdAndWhatItsRingSaysOfTheDialer()
    {
        TestCluster cluster = fixture.Cluster;
        var secret = ClusterSecret.FromKey(cluster.SecretKey);
        using var timeout = new CancellationTokenSource(10_000);

        var stranger = new PeerDialer(new PeerEndpoint(PeerHandshake.AnyNode, "127.0.0.1", cluster[2].PeerPort), 9, 64, secret, tls: null);
        PeerProbe unknown = await stranger.ProbeAsync(timeout.Token);
        Assert.Equal(new PeerProbe(2, 64, 3, 1, null, ""), unknown);

        var member = new PeerDialer(new PeerEndpoint(PeerHandshake.AnyNode, "127.0.0.1", cluster[0].PeerPort), 1, 64, secret, tls: null);
        PeerProbe known = await member.ProbeAsync(timeout.Token);
        Assert.Equal(0, known.ListenerId);
        Assert.Equal(MemberStatus.Normal, known.DialerStatus);
        Assert.Equal($"127.0.0.1:{cluster[1].PeerPort}", known.DialerAddress);

        var wrongSecret = new PeerDialer(new PeerEndpoint(PeerHandshake.AnyNode, "127.0.0.1", cluster[0].PeerPort), 9, 64,
            ClusterSecret.FromKey("not the cluster secret at all!!!"u8.ToArray()), tls: null);
        await Assert.ThrowsAsync<PeerAuthenticationException>(() => wrongSecret.ProbeAsync(timeout.Token));
    }
}

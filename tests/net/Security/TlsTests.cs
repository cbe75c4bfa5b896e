using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Security;

public sealed class TlsTests
{
    [Fact]
    public async Task AThreeNodeTlsClusterServesAndRefusesAPeerFromAnotherCa()
    {
        using var certificates = new TempDir("meteora-tls");
        var cluster = new TestCertificates(certificates.Path, "cluster");
        var foreign = new TestCertificates(certificates.Path, "foreign");
        var issued = Enumerable.Range(0, 3).Select(i => cluster.Issue($"node-{i}")).ToArray();
        await using TestCluster nodes = await TestCluster.StartAsync(3,
            nodeArgs: i => ["--tls-cert", issued[i].CertPath, "--tls-key", issued[i].KeyPath, "--tls-ca", cluster.CaPath],
            httpsHandler: cluster.TrustingHandler);

        // Reads and writes at full quorum go over TLS peer links and HTTPS.
        var (status, body) = await Api.SetAsync(nodes[0].Http, "tls-key", "over-tls", w: 3);
        Assert.True(status == 200, $"{status} {body}\n{nodes.Diagnostics()}");
        var (getStatus, got) = await Api.GetAsync(nodes[2].Http, "tls-key", r: 3);
        Assert.Equal(200, getStatus);
        Assert.Equal("over-tls", got.GetProperty("value").GetString());

        // A dialer presenting a certificate from another CA fails TLS on the peer port; so does one with none.
        var (foreignCert, foreignKey) = foreign.Issue("intruder");
        using X509Certificate2 intruder = X509Certificate2.CreateFromPemFile(foreignCert, foreignKey);
        await Assert.ThrowsAnyAsync<Exception>(() => TlsDialAsync(nodes[0].PeerPort, intruder, cluster));
        await Assert.ThrowsAnyAsync<Exception>(() => TlsDialAsync(nodes[0].PeerPort, null, cluster));
        // Control: a certificate from the cluster CA completes TLS, so the refusals above are about the CA.
        var (goodCert, goodKey) = cluster.Issue("control");
        using X509Certificate2 control = X509Certificate2.CreateFromPemFile(goodCert, goodKey);
        await TlsDialAsync(nodes[0].PeerPort, control, cluster);

        // A whole node with the right secret but a foreign certificate cannot join the conversation.
        await ForeignNodeWritesStayLocal(nodes, foreign);
    }

    private static async Task ForeignNodeWritesStayLocal(TestCluster nodes, TestCertificates foreign)
    {
        var (cert, key) = foreign.Issue("rogue-node");
        int[] ports = FreePorts.Take(2);
        string data = Path.Combine(nodes.ScratchDir, "rogue");
        string[] args =
        [
            "node", "--id", "2", "--http-port", Num(ports[0]), "--peer-port", Num(ports[1]), "--data", data,
            "--peers", nodes.PeerList, "--n", "3", "--timeout-ms", "3000", "--cluster-secret-file", nodes.SecretFile,
            "--tls-cert", cert, "--tls-key", key, "--tls-ca", foreign.CaPath,
        ];
        using var rogue = new NodeProcess(2, ports[0], ports[1], data, args, foreign.TrustingHandler());
        rogue.Start();
        await rogue.WaitForHealthAsync();
        var (status, body) = await Api.SetAsync(rogue.Http, "rogue-key", "forged", w: 1);
        Assert.True(status == 200, $"rogue write: {status} {body}\n{rogue.Output}");
        var (getStatus, _) = await Api.GetAsync(nodes[0].Http, "rogue-key", r: 3);
        Assert.Equal(404, getStatus);
        rogue.Terminate(5_000);
    }

    private static async Task TlsDialAsync(int port, X509Certificate2? clientCertificate, TestCertificates trust)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(10_000);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => trust.IsSignedByThisCa(certificate as X509Certificate2),
        }, timeout.Token);
        // TLS 1.3 reports a refused client certificate only on the first read after the handshake.
        var buffer = new byte[1];
        using var read = new CancellationTokenSource(2_000);
        try
        {
            int n = await ssl.ReadAsync(buffer, read.Token);
            if (n == 0) throw new AuthenticationException("the listener closed the TLS session");
        }
        catch (OperationCanceledException)
        {
            // Still open after 2 s: the listener accepted the certificate and awaits our handshake.
        }
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

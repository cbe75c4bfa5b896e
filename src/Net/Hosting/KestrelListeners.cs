using System.Net;
using System.Security.Authentication;
using Meteora.Net.Http;
using Meteora.Net.Security;
using Meteora.Net.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Hosting;

/// <summary>
/// The node's two listeners on one Kestrel server: the HTTP API (HTTP/1.1, TLS when configured, at most
/// <see cref="NodeConfig.MaxHttpConnections"/> connections) and the raw peer port (TLS with a client
/// certificate from the cluster CA when configured, then <see cref="PeerConnectionHandler"/>).
/// </summary>
public static class KestrelListeners
{
    /// <summary>Kestrel's per-connection input buffer; must exceed the largest peer frame or reading a big frame would stall.</summary>
    public const long MaxConnectionBufferBytes = 4L * 1024 * 1024;

    public static void Configure(KestrelServerOptions kestrel, NodeConfig config, NodeSecurity security)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = NodeConfig.MaxRequestBodyBytes;
        kestrel.Limits.MaxRequestBufferSize = MaxConnectionBufferBytes;
        HttpConnectionLimit limit = kestrel.ApplicationServices.GetRequiredService<HttpConnectionLimit>();
        Listen(kestrel, config.Host, config.HttpPort, listen =>
        {
            // HTTP/1.1 only: one request at a time per connection, so the connection limit bounds concurrency.
            listen.Protocols = HttpProtocols.Http1;
            if (security.Tls is { } tls) listen.UseHttps(tls.Certificate);
            listen.Use(limit.Wrap);
        });
        Listen(kestrel, config.Host, config.PeerPort, listen =>
        {
            if (security.Tls is { } tls) listen.UseHttps(PeerTlsOptions(tls));
            listen.UseConnectionHandler<PeerConnectionHandler>();
        });
    }

    /// <summary>Peers must present a certificate that chains to the cluster CA, or TLS fails before any byte of ours is read.</summary>
    private static HttpsConnectionAdapterOptions PeerTlsOptions(TlsSettings tls) => new()
    {
        ServerCertificate = tls.Certificate,
        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
        ClientCertificateValidation = (certificate, _, _) => tls.IsTrusted(certificate),
        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        HandshakeTimeout = TimeSpan.FromMilliseconds(PeerHandshake.TimeoutMs),
    };

    private static void Listen(KestrelServerOptions kestrel, string host, int port, Action<ListenOptions> configure)
    {
        if (host is "localhost") kestrel.ListenLocalhost(port, configure);
        else if (host is "*" or "0.0.0.0" or "::") kestrel.ListenAnyIP(port, configure);
        else if (IPAddress.TryParse(host, out IPAddress? address)) kestrel.Listen(address, port, configure);
        else throw new Cli.CliUsageException($"host must be an IP address, localhost or 0.0.0.0, got '{host}'");
    }
}

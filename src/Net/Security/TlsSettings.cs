using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meteora.Net.Security;

/// <summary>
/// TLS for peer links and the HTTP API: this node's certificate and key (PEM) and the CA that signs
/// every member's certificate. Peers present their certificates both ways and accept only chains that
/// end at this CA. Host names are not checked between peers: a peer's identity (its node id) is proven
/// by the cluster-secret handshake inside the TLS session, and nodes are often dialled by IP.
/// </summary>
public sealed class TlsSettings
{
    private TlsSettings(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    public X509Certificate2 Certificate { get; }
    public X509Certificate2 Authority { get; }

    /// <summary>All three paths or none; a partial set is a usage error naming what is missing.</summary>
    public static TlsSettings? Load(string? certPath, string? keyPath, string? caPath)
    {
        if (certPath is null && keyPath is null && caPath is null) return null;
        if (certPath is null || keyPath is null || caPath is null)
        {
            throw new Cli.CliUsageException("TLS needs all of --tls-cert, --tls-key and --tls-ca (PEM files)");
        }
        RequireFile(certPath, "--tls-cert");
        RequireFile(keyPath, "--tls-key");
        RequireFile(caPath, "--tls-ca");
        try
        {
            X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (!certificate.HasPrivateKey) throw new Cli.CliUsageException($"--tls-key {keyPath} holds no private key for {certPath}");
            X509Certificate2 authority = X509CertificateLoader.LoadCertificateFromFile(caPath);
            var settings = new TlsSettings(certificate, authority);
            if (!settings.IsTrusted(certificate))
            {
                throw new Cli.CliUsageException($"--tls-cert {certPath} is not signed by the CA in --tls-ca {caPath} (or is expired)");
            }
            return settings;
        }
        catch (CryptographicException e)
        {
            throw new Cli.CliUsageException($"TLS files could not be loaded ({certPath}, {keyPath}, {caPath}): {e.Message}");
        }
    }

    /// <summary>True when <paramref name="certificate"/> chains to <see cref="Authority"/> and is valid now.</summary>
    public bool IsTrusted(X509Certificate? certificate)
    {
        if (certificate is null) return false;
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    /// <summary>Options for a peer link dialling <paramref name="targetHost"/>: present our certificate, trust only the CA.</summary>
    public SslClientAuthenticationOptions ClientOptions(string targetHost) => new()
    {
        TargetHost = targetHost,
        ClientCertificates = [Certificate],
        RemoteCertificateValidationCallback = (_, certificate, _, _) => IsTrusted(certificate),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    private static void RequireFile(string path, string option)
    {
        if (!File.Exists(path)) throw new Cli.CliUsageException($"{option}: file {path} does not exist");
    }
}

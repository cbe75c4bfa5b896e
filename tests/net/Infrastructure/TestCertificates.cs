using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>
/// A throwaway certificate authority and node certificates for TLS tests, made with the BCL's
/// <see cref="CertificateRequest"/> and written as PEM files (what `meteora node --tls-*` reads).
/// </summary>
public sealed class TestCertificates
{
    private readonly X509Certificate2 _authority;
    private readonly string _dir;
    private int _issued;

    public TestCertificates(string dir, string name)
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaPath = Path.Combine(dir, $"{name}-ca.pem");
        File.WriteAllText(CaPath, _authority.ExportCertificatePem());
    }

    public string CaPath { get; }

    public X509Certificate2 Authority => _authority;

    /// <summary>Issues a certificate for a node on loopback (server and client use); returns its PEM paths.</summary>
    public (string CertPath, string KeyPath) Issue(string name)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_authority, true, false));
        byte[] serial = BitConverter.GetBytes(Interlocked.Increment(ref _issued) + 1000L);
        using X509Certificate2 certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        string certPath = Path.Combine(_dir, $"{name}.pem");
        string keyPath = Path.Combine(_dir, $"{name}.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <summary>An HTTP handler that trusts exactly this CA (as `curl --cacert` would).</summary>
    public HttpMessageHandler TrustingHandler() => new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, _) => IsSignedByThisCa(certificate),
    };

    public bool IsSignedByThisCa(X509Certificate2? certificate)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}

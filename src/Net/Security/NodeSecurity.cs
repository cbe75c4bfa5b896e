namespace Meteora.Net.Security;

/// <summary>
/// Everything a node proves or checks: the cluster secret (peer handshake), optional TLS for peer links
/// and HTTP, and optional bearer tokens for client and admin HTTP calls. Loaded once at start from the
/// files named in <see cref="Hosting.NodeConfig"/>; a missing or bad file is a usage error (exit 2).
/// </summary>
public sealed record NodeSecurity(ClusterSecret Secret, TlsSettings? Tls, ApiTokens Tokens)
{
    public static NodeSecurity None { get; } = new(ClusterSecret.None, null, ApiTokens.None);

    public static NodeSecurity Load(Hosting.NodeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new NodeSecurity(
            ClusterSecret.Load(config.ClusterSecretFile),
            TlsSettings.Load(config.TlsCertFile, config.TlsKeyFile, config.TlsCaFile),
            ApiTokens.Load(config.ApiTokenFile, config.AdminTokenFile));
    }

    /// <summary>Secret files that group or others may read, to warn about at start.</summary>
    public static IEnumerable<string> LooselyProtectedFiles(Hosting.NodeConfig config)
    {
        foreach (string? path in new[] { config.ClusterSecretFile, config.ApiTokenFile, config.AdminTokenFile })
        {
            if (path is not null && SecretFile.IsReadableByOthers(path)) yield return path;
        }
    }
}

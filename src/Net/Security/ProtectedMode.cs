using System.Net;

namespace Meteora.Net.Security;

/// <summary>
/// Like Redis's protected mode: a node that cannot authenticate its peers (no cluster secret) must not
/// be reachable from other machines, so it may only listen on loopback.
/// </summary>
public static class ProtectedMode
{
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host == "localhost") return true;
        return IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address);
    }

    /// <summary>Throws a usage error (exit 2) naming the missing secret when <paramref name="host"/> is not loopback.</summary>
    public static void Check(string host, string? clusterSecretFile)
    {
        if (clusterSecretFile is not null || IsLoopback(host)) return;
        throw new Cli.CliUsageException(
            $"--host {host} is not a loopback address and no cluster secret is set: protected mode refuses to listen beyond loopback without --cluster-secret-file PATH (or Meteora__ClusterSecretFile)");
    }
}

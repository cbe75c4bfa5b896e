using System.Text;

namespace Meteora.Net.Security;

/// <summary>
/// The key every peer proves it holds in the handshake (<see cref="Transport.PeerHandshake"/>). A node
/// without a configured secret uses a fixed, public key: that proves nothing, which is why such a node
/// may only listen on loopback (protected mode, <see cref="ProtectedMode"/>).
/// </summary>
public sealed class ClusterSecret
{
    private static readonly byte[] UnconfiguredKey = Encoding.UTF8.GetBytes("meteora: no cluster secret configured (loopback only)");

    private ClusterSecret(byte[] key, bool isConfigured)
    {
        Key = key;
        IsConfigured = isConfigured;
    }

    public static ClusterSecret None { get; } = new(UnconfiguredKey, isConfigured: false);

    public byte[] Key { get; }

    /// <summary>False for <see cref="None"/>: peers are not authenticated.</summary>
    public bool IsConfigured { get; }

    public static ClusterSecret FromKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < SecretFile.MinSecretBytes) throw new ArgumentException($"a cluster secret needs at least {SecretFile.MinSecretBytes} bytes", nameof(key));
        return new ClusterSecret(key, isConfigured: true);
    }

    public static ClusterSecret Load(string? path) =>
        path is null ? None : FromKey(SecretFile.Read(path, "cluster secret (--cluster-secret-file)"));
}

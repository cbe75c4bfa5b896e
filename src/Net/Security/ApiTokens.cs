using System.Security.Cryptography;
using System.Text;

namespace Meteora.Net.Security;

/// <summary>What an HTTP call needs: nothing (health), a client token, or the admin token.</summary>
public enum AccessLevel
{
    Open,
    Client,
    Admin,
}

/// <summary>
/// Optional bearer tokens. The admin token also works for client calls. With only a client token set,
/// admin calls need that token (setting one token never leaves the admin API open); with neither set,
/// everything is open as before (loopback by protected mode). Tokens are compared as SHA-256 digests in
/// constant time, so neither their content nor their length leaks through timing.
/// </summary>
public sealed class ApiTokens
{
    private readonly byte[]? _clientDigest;
    private readonly byte[]? _adminDigest;

    private ApiTokens(byte[]? clientToken, byte[]? adminToken)
    {
        _clientDigest = clientToken is null ? null : SHA256.HashData(clientToken);
        _adminDigest = adminToken is null ? null : SHA256.HashData(adminToken);
    }

    public static ApiTokens None { get; } = new(null, null);

    public bool IsEnabled => _clientDigest is not null || _adminDigest is not null;

    public static ApiTokens Load(string? clientTokenFile, string? adminTokenFile) => new(
        clientTokenFile is null ? null : SecretFile.Read(clientTokenFile, "API token (--api-token-file)"),
        adminTokenFile is null ? null : SecretFile.Read(adminTokenFile, "admin token (--admin-token-file)"));

    public static ApiTokens FromStrings(string? clientToken, string? adminToken) => new(
        clientToken is null ? null : Encoding.UTF8.GetBytes(clientToken),
        adminToken is null ? null : Encoding.UTF8.GetBytes(adminToken));

    /// <summary>True when a request presenting <paramref name="bearer"/> (null: none) may make a call at <paramref name="level"/>.</summary>
    public bool Allows(AccessLevel level, ReadOnlySpan<char> bearer, bool hasBearer)
    {
        if (level == AccessLevel.Open || !IsEnabled) return true;
        if (level == AccessLevel.Client && _clientDigest is null) return true;
        if (!hasBearer) return false;
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        DigestOf(bearer, digest);
        bool isAdmin = _adminDigest is not null && CryptographicOperations.FixedTimeEquals(digest, _adminDigest);
        bool isClient = _clientDigest is not null && CryptographicOperations.FixedTimeEquals(digest, _clientDigest);
        if (level == AccessLevel.Admin) return _adminDigest is not null ? isAdmin : isClient;
        return isAdmin || isClient;
    }

    /// <summary>Tokens up to this many UTF-8 bytes are hashed from the stack; longer ones (never valid: files hold at most 4 KiB) from a pooled buffer.</summary>
    private const int StackTokenBytes = 1024;

    /// <summary>Runs on every request when tokens are set: no heap allocation.</summary>
    private static void DigestOf(ReadOnlySpan<char> token, Span<byte> digest)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = maxBytes > StackTokenBytes ? System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        Span<byte> buffer = rented is null ? stackalloc byte[StackTokenBytes] : rented;
        try
        {
            int length = Encoding.UTF8.GetBytes(token, buffer);
            SHA256.HashData(buffer[..length], digest);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

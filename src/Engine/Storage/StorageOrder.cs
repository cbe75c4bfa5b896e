using Meteora.Engine.Hashing;

namespace Meteora.Engine.Storage;

/// <summary>
/// The order a partition's entries are stored and scanned in: by the top 64 bits of the key's token,
/// then by the key's UTF-8 bytes (<see cref="Utf8Order"/>) for the rare keys that share them. The
/// keys of one partition share the top log2(Q) token bits, so this orders them by the bits right
/// after the partition bits: every Merkle leaf, at any depth d with log2(Q) + d ≤ 64, is one
/// contiguous range. RocksDB keeps the same order (partition, token high 64 big-endian, key bytes).
/// </summary>
public sealed class StorageOrder : IComparer<string>
{
    public static readonly StorageOrder Instance = new();

    private StorageOrder()
    {
    }

    /// <summary>The top 64 bits of the key's token (MurmurHash3 x64_128 of its UTF-8 bytes, read big-endian).</summary>
    public static ulong TokenHigh64(string key) => (ulong)(Token.OfKey(key).Value >> 64);

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        return Compare(TokenHigh64(x), x, TokenHigh64(y), y);
    }

    /// <summary>Compares two keys whose token-high-64 values are already known.</summary>
    public static int Compare(ulong tokenX, string x, ulong tokenY, string y)
    {
        int byToken = tokenX.CompareTo(tokenY);
        return byToken != 0 ? byToken : Utf8Order.Instance.Compare(x, y);
    }
}

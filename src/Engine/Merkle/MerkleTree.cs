using System.Buffers.Binary;
using System.Text;
using Meteora.Engine.Hashing;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Merkle;

/// <summary>
/// A Merkle tree over one partition replica's entries (Merkle, "A Digital Signature Based on a
/// Conventional Encryption Function", 1987; used for anti-entropy as in Dynamo section 4.7).
/// Leaves are buckets of keys by key token (the bits right after the partition bits); a leaf's
/// hash is the XOR of its entries' hashes of (key, version), so it is independent of insertion
/// order and one write updates it in O(depth) with no rescan. Inner nodes hash their two children
/// (all-zero subtrees stay zero). Heap layout: node 1 is the root, node i has children 2i and
/// 2i+1, leaves are nodes [LeafCount, 2*LeafCount).
/// </summary>
public sealed class MerkleTree
{
    public const int MinDepth = 0;
    public const int MaxDepth = 20;

    private readonly UInt128[] _nodes;
    private readonly int _partitionBits;

    public MerkleTree(int depth, int partitionCount)
    {
        if (depth < MinDepth || depth > MaxDepth)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), depth, $"Merkle depth must be in {MinDepth}..{MaxDepth}");
        }
        Ring.RingLayout.RequirePowerOfTwo(partitionCount);
        Depth = depth;
        LeafCount = 1 << depth;
        PartitionCount = partitionCount;
        _partitionBits = System.Numerics.BitOperations.Log2((uint)partitionCount);
        // log2(Q) ≤ 16 and depth ≤ 20, so a leaf is always a range of the token's top 64 bits (LeafRange).
        _nodes = new UInt128[2 * LeafCount];
    }

    public int Depth { get; }
    public int LeafCount { get; }
    public int PartitionCount { get; }
    public int EntryCount { get; private set; }

    public UInt128 Root => _nodes[1];

    /// <summary>Node i's hash (1 = root; leaves at LeafCount..2*LeafCount-1).</summary>
    public UInt128 NodeHash(int node)
    {
        if (node < 1 || node >= _nodes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(node), node, $"node must be in 1..{_nodes.Length - 1}");
        }
        return _nodes[node];
    }

    /// <summary>The leaf (0-based) a key belongs to: the token's bits right after the partition bits.</summary>
    public int LeafOf(string key) => LeafOf(Token.OfKey(key));

    public int LeafOf(Token token)
    {
        if (Depth == 0) return 0;
        UInt128 shifted = token.Value << _partitionBits;
        return (int)(shifted >> (128 - Depth));
    }

    /// <summary>
    /// The token-high-64 range (<see cref="StorageOrder.TokenHigh64"/>) of one leaf of one partition:
    /// exactly the keys of that partition with <see cref="LeafOf(string)"/> = leaf. Depth 0 gives the
    /// whole partition's range.
    /// </summary>
    public TokenRange LeafRange(int partition, int leaf)
    {
        if (partition < 0 || partition >= PartitionCount)
        {
            throw new ArgumentOutOfRangeException(nameof(partition), partition, $"partition must be in 0..{PartitionCount - 1}");
        }
        if (leaf < 0 || leaf >= LeafCount)
        {
            throw new ArgumentOutOfRangeException(nameof(leaf), leaf, $"leaf must be in 0..{LeafCount - 1} at depth {Depth}");
        }
        int prefixBits = _partitionBits + Depth;
        if (prefixBits == 0) return TokenRange.All;
        ulong prefix = ((ulong)partition << Depth) | (uint)leaf;
        ulong first = prefix << (64 - prefixBits);
        return new TokenRange(first, first | (ulong.MaxValue >> prefixBits));
    }

    public void Add(string key, WriteVersion version) => Toggle(key, version, +1);

    public void Remove(string key, WriteVersion version) => Toggle(key, version, -1);

    /// <summary>Replaces the entry for key: the version it had (null: none) by the one it has now (null: none).</summary>
    public void Replace(string key, WriteVersion? before, WriteVersion? after) => Replace(key, Token.OfKey(key), before, after);

    /// <summary>As <see cref="Replace(string, WriteVersion?, WriteVersion?)"/>, with the key's token already known to the caller.</summary>
    public void Replace(string key, Token token, WriteVersion? before, WriteVersion? after)
    {
        if (before == after) return;
        // Both entries live in the same leaf: change the leaf once, then rehash its path once.
        int node = LeafCount + LeafOf(token);
        if (before is { } b)
        {
            _nodes[node] ^= EntryHash(key, b);
            EntryCount--;
        }
        if (after is { } a)
        {
            _nodes[node] ^= EntryHash(key, a);
            EntryCount++;
        }
        RehashPath(node);
    }

    /// <summary>The 128-bit hash of one (key, version) entry: MurmurHash3 over key UTF-8 + version.</summary>
    public static UInt128 EntryHash(string key, WriteVersion version)
    {
        if (key.Length <= Token.ShortKeyChars)
        {
            // One UTF-8 pass into a fixed buffer (at most 3 bytes per char) instead of a count then an encode (issue 11).
            Span<byte> shortBuffer = stackalloc byte[Token.ShortKeyChars * 3 + VersionBytes];
            return HashEntry(shortBuffer, Encoding.UTF8.GetBytes(key, shortBuffer), version);
        }
        int keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > Limits.MaxKeySizeBytes)
        {
            throw new ArgumentException($"key is {keyBytes} bytes; the limit is {Limits.MaxKeySizeBytes}", nameof(key));
        }
        Span<byte> buffer = stackalloc byte[keyBytes + VersionBytes]; // exact size: a fixed buffer would be zeroed on every call
        return HashEntry(buffer, Encoding.UTF8.GetBytes(key, buffer), version);
    }

    private const int VersionBytes = 12;

    /// <summary>Appends the version after the <paramref name="keyBytes"/> of key in <paramref name="buffer"/> and hashes both.</summary>
    private static UInt128 HashEntry(Span<byte> buffer, int keyBytes, WriteVersion version)
    {
        BinaryPrimitives.WriteInt64BigEndian(buffer[keyBytes..], version.TimestampMicros);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(keyBytes + 8)..], version.Node);
        var (h1, h2) = MurmurHash3.Hash128(buffer[..(keyBytes + VersionBytes)], 0);
        return new UInt128(h1, h2);
    }

    private void Toggle(string key, WriteVersion version, int delta)
    {
        int node = LeafCount + LeafOf(key);
        _nodes[node] ^= EntryHash(key, version);
        EntryCount += delta;
        RehashPath(node);
    }

    private void RehashPath(int leafNode)
    {
        for (int node = leafNode >> 1; node >= 1; node >>= 1)
        {
            _nodes[node] = Combine(_nodes[2 * node], _nodes[2 * node + 1]);
        }
    }

    private static UInt128 Combine(UInt128 left, UInt128 right)
    {
        if (left == UInt128.Zero && right == UInt128.Zero) return UInt128.Zero;
        Span<byte> buffer = stackalloc byte[32];
        BinaryPrimitives.WriteUInt128LittleEndian(buffer, left);
        BinaryPrimitives.WriteUInt128LittleEndian(buffer[16..], right);
        var (h1, h2) = MurmurHash3.Hash128(buffer, 0x4d45544f); // seed "METO": inner nodes never equal entry hashes by construction
        return new UInt128(h1, h2);
    }
}

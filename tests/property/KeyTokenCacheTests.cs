using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Meteora.Engine.Hashing;
using Meteora.Engine.Merkle;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

/// <summary>The key-hashing shortcuts of issue 11 give exactly the tokens and entry hashes of the plain definitions.</summary>
public sealed class KeyTokenCacheTests
{
    /// <summary>The definition: MurmurHash3 x64_128 (seed 0) of the key's UTF-8 bytes, the digest read big-endian.</summary>
    private static Token Reference(string key)
    {
        Span<byte> digest = stackalloc byte[16];
        MurmurHash3.Hash128(Encoding.UTF8.GetBytes(key), Token.Seed, digest);
        return new Token(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(digest));
    }

    private static readonly string[] Units = ["k", "ü", "键", "😀", "\ud800"];

    /// <summary>Keys around the one-pass limit of 64 chars, of 1-, 2-, 3- and 4-byte UTF-8 chars and lone surrogates (as unit index and length: xUnit cannot tell lone-surrogate strings apart as case ids).</summary>
    public static TheoryData<int, int> Keys()
    {
        var keys = new TheoryData<int, int>();
        for (int unit = 0; unit < Units.Length; unit++)
        {
            foreach (int length in new[] { 0, 1, 21, 32, 63, 64, 65, 200, 340 }) keys.Add(unit, length);
        }
        return keys;
    }

    private static string KeyOf(int unit, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length) text.Append(Units[unit]);
        return text.ToString()[..length];
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Token_of_key_is_the_digest_of_its_utf8_at_every_length(int unit, int length)
    {
        string key = KeyOf(unit, length);
        Assert.Equal(Reference(key), Token.OfKey(key));
        Assert.Equal(Reference(key), new KeyTokenCache().Of(key));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Entry_hash_is_the_digest_of_key_utf8_then_version(int unit, int length)
    {
        string key = KeyOf(unit, length);
        var version = new WriteVersion(1_700_000_000_123_456, 7);
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        byte[] input = new byte[keyBytes.Length + 12];
        keyBytes.CopyTo(input, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(keyBytes.Length), version.TimestampMicros);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(keyBytes.Length + 8), version.Node);
        var (h1, h2) = MurmurHash3.Hash128(input, 0);
        Assert.Equal(new UInt128(h1, h2), MerkleTree.EntryHash(key, version));
    }

    [Property(MaxTest = 300)]
    public void Cached_tokens_equal_fresh_ones_for_any_sequence_of_keys(NonNull<string>[] keys, byte repeats)
    {
        var cache = new KeyTokenCache();
        for (int round = 0; round <= repeats % 4; round++)
        {
            foreach (NonNull<string> key in keys) Assert.Equal(Reference(key.Get), cache.Of(key.Get));
        }
    }

    [Fact]
    public void Keys_sharing_slots_never_get_each_others_tokens()
    {
        // Five times as many distinct keys as slots, asked twice in a shuffled order: every slot is
        // contended, so a cache that answered from a slot without comparing the key would fail here.
        var cache = new KeyTokenCache();
        string[] keys = Enumerable.Range(0, KeyTokenCache.Slots * 5).Select(i => $"key-{i}").ToArray();
        foreach (string key in keys) Assert.Equal(Reference(key), cache.Of(key));
        foreach (string key in keys.Reverse()) Assert.Equal(Reference(key), cache.Of(key));
        // An equal key in a different string instance hits the same entry.
        Assert.Equal(Reference("key-17"), cache.Of(new string("key-17".AsSpan())));
    }

    [Fact]
    public void A_null_key_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new KeyTokenCache().Of(null!));
    }
}

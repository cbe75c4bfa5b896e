using System.Text;
using Meteora.Engine.Versioning;
using Meteora.Net.Storage;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// The decoded-value cache in front of RocksDB: what was set is found until removed, it never holds
/// more bytes than its capacity, keys in use survive while unused ones age out, and a dropped
/// partition leaves nothing behind.
/// </summary>
public sealed class ValueCacheTests
{
    private static StoredValue Value(string text) => new(new WriteVersion(1, 1), Encoding.UTF8.GetBytes(text));

    [Fact]
    public void A_set_value_is_found_until_it_is_removed()
    {
        var cache = new ValueCache(capacityBytes: 64 * 1024);
        Assert.False(cache.TryGet(1, "k", out _));
        cache.Set(1, "k", Value("one"));
        cache.Set(1, "k", Value("two"));
        Assert.True(cache.TryGet(1, "k", out StoredValue found));
        Assert.Equal("two", Encoding.UTF8.GetString(found.Value!));
        Assert.False(cache.TryGet(2, "k", out _)); // the same key in another partition is another entry
        cache.Remove(1, "k");
        Assert.False(cache.TryGet(1, "k", out _));
        Assert.Equal(0, cache.SizeBytes);
    }

    [Fact]
    public void Its_size_never_passes_the_capacity_and_unused_keys_age_out()
    {
        const long capacityBytes = 8 * 1024;
        var cache = new ValueCache(capacityBytes);
        cache.Set(0, "hot", Value("h"));
        for (int i = 0; i < 10_000; i++)
        {
            cache.Set(0, "cold" + i, Value(new string('v', i % 200)));
            Assert.True(cache.SizeBytes <= capacityBytes, $"{cache.SizeBytes} bytes held after {i + 1} sets");
            // Reading the hot key keeps it: a hit in the old generation moves it back to the young one.
            Assert.True(cache.TryGet(0, "hot", out _), $"hot key lost after {i + 1} sets");
        }
        Assert.False(cache.TryGet(0, "cold0", out _));
        Assert.True(cache.Count < 10_000);
    }

    [Fact]
    public void Removing_a_partition_removes_its_keys_from_both_generations()
    {
        var cache = new ValueCache(capacityBytes: 64 * 1024);
        // 40 entries of ~1.1 KB pass one generation (32 KiB) but not two: both generations hold some.
        for (int i = 0; i < 40; i++) cache.Set(i % 2, "k" + i, Value(new string('x', 1000)));
        cache.RemovePartition(0);
        for (int i = 0; i < 40; i++) Assert.Equal(i % 2 == 1, cache.TryGet(i % 2, "k" + i, out _));
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.SizeBytes);
    }

    [Fact]
    public void A_value_too_large_to_hold_still_replaces_the_older_cached_one()
    {
        var cache = new ValueCache(capacityBytes: 4 * 1024);
        cache.Set(0, "k", Value("small"));
        cache.Set(0, "k", Value(new string('x', 3000))); // larger than a generation (2 KiB): not held
        Assert.False(cache.TryGet(0, "k", out _)); // and the small one must not answer for it
        Assert.Equal(0, cache.SizeBytes);
    }

    [Fact]
    public void A_capacity_too_small_for_one_entry_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ValueCache(capacityBytes: 10));
    }
}

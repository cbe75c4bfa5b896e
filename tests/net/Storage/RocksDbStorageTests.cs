using System.Text;
using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>What only the RocksDB store promises beyond the shared contract.</summary>
public sealed class RocksDbStorageTests
{
    [Fact]
    public void WritesArrivingTogetherShareWalSyncs()
    {
        using var harness = new RocksDbStorageHarness();
        const int writes = 5_000;
        for (int i = 1; i <= writes; i++)
        {
            harness.Storage.Write(i % 64, $"k{i}", new StoredValue(new WriteVersion(i, 1), Encoding.UTF8.GetBytes($"v{i}")), i);
        }
        IReadOnlyList<Completion> completions = harness.CompleteAll(writes);
        Assert.All(completions, c => Assert.True(c.Durable));
        long syncs = harness.Rocks.SyncCount;
        Assert.InRange(syncs, 1, writes / 5);
    }

    [Fact]
    public void CompletionsComeFromTheIoThreadNotTheCaller()
    {
        using var harness = new RocksDbStorageHarness();
        harness.Storage.Write(0, "k", new StoredValue(new WriteVersion(1, 1), [1]), 1);
        harness.CompleteAll(1);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, harness.CompletionThreads);
    }

    [Fact]
    public void SameKeyInDifferentPartitionsIsDistinct()
    {
        using var harness = new RocksDbStorageHarness();
        harness.Storage.Write(1, "k", new StoredValue(new WriteVersion(1, 1), [1]), 1);
        harness.Storage.Write(2, "k", new StoredValue(new WriteVersion(2, 1), [2]), 2);
        Assert.True(harness.Storage.TryGet(1, "k", out StoredValue one));
        Assert.Equal([1], one.Value!);
        Assert.True(harness.Storage.TryGet(2, "k", out StoredValue two));
        Assert.Equal([2], two.Value!);
        harness.CompleteAll(2);
    }

    [Fact]
    public void PartitionPrefixIsBigEndianSoPartitionsAreContiguous()
    {
        Span<byte> a = stackalloc byte[StorageKeys.MaxEncodedBytes];
        Span<byte> b = stackalloc byte[StorageKeys.MaxEncodedBytes];
        int lengthA = StorageKeys.Encode(1, "zzzz", a);
        int lengthB = StorageKeys.Encode(256, "a", b);
        Assert.True(a[..lengthA].SequenceCompareTo(b[..lengthB]) < 0);
        Assert.Equal(new byte[] { 0, 0, 1, 0, (byte)'a' }, b[..lengthB].ToArray());
        Assert.Equal((256, "a"), StorageKeys.Decode(b[..lengthB]));
    }

    [Fact]
    public void ScanWalksOnePartitionInUtf8OrderInSlices()
    {
        using var harness = new RocksDbStorageHarness();
        string[] keys = ["b", "a", "\U0001F600", "\uFFFD", "aa", "z"];
        long token = 0;
        foreach (string key in keys) harness.Storage.Write(7, key, new StoredValue(new WriteVersion(++token, 1), [1]), token);
        harness.Storage.Write(6, "other", new StoredValue(new WriteVersion(++token, 1), [2]), token);
        harness.Storage.Write(8, "other", new StoredValue(new WriteVersion(++token, 1), [3]), token);
        harness.CompleteAll((int)token);

        var all = new List<KeyValuePair<string, StoredValue>>();
        string? after = null;
        while (true)
        {
            var slice = new List<KeyValuePair<string, StoredValue>>();
            int added = harness.Rocks.Scan(7, after, slice, maxCount: 4);
            Assert.Equal(slice.Count, added);
            if (added == 0) break;
            all.AddRange(slice);
            after = slice[^1].Key;
        }
        // UTF-8 order: U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
        Assert.Equal(["a", "aa", "b", "z", "\uFFFD", "\U0001F600"], all.Select(e => e.Key));
    }

    [Fact]
    public void PurgeRemovesOnlyTheExactTombstone()
    {
        using var harness = new RocksDbStorageHarness();
        var tombstone = StoredValue.Tombstone(new WriteVersion(5, 1));
        harness.Storage.Write(1, "gone", tombstone, 1);
        harness.Storage.Write(1, "newer", StoredValue.Tombstone(new WriteVersion(9, 1)), 2);
        harness.Rocks.Purge(1, "gone", tombstone.Version, 3);
        harness.Rocks.Purge(1, "newer", tombstone.Version, 4);
        Assert.All(harness.CompleteAll(4), c => Assert.True(c.Durable));
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
        Assert.True(harness.Storage.TryGet(1, "newer", out _));
        harness.Restart();
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0 })]
    [InlineData(new byte[] { 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1 })]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 7 })]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 5 })]
    public void CorruptRecordsAreRejectedNotMisread(byte[] record)
    {
        Assert.Throws<InvalidDataException>(() => StoredValueCodec.Decode(record));
    }

    [Fact]
    public void ADataDirectoryCannotBeOpenedTwice()
    {
        using var dir = new TempDir("meteora-lock");
        var sink = new NullSink();
        using RocksDbStorage first = RocksDbStorage.Open(dir.Path, sink);
        IOException error = Assert.Throws<IOException>(() => RocksDbStorage.Open(dir.Path, sink));
        Assert.Contains("cannot open RocksDB", error.Message);
    }

    private sealed class NullSink : IStorageCompletionSink
    {
        public void OnStorageCompleted(long completionToken, bool durable)
        {
        }
    }
}

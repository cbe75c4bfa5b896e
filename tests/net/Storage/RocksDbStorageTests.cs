using System.Text;
using Meteora.Engine.Storage;
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
        ulong token = StorageOrder.TokenHigh64("a");
        byte[] expected = [0, 0, 1, 0, .. BitConverter.GetBytes(token).Reverse(), (byte)'a'];
        Assert.Equal(expected, b[..lengthB].ToArray());
        Assert.Equal((256, token, "a"), StorageKeys.Decode(b[..lengthB]));
    }

    [Fact]
    public void EncodedKeysOfAPartitionSortInStorageOrder()
    {
        var random = new Random(7);
        string[] keys = [.. Enumerable.Range(0, 500).Select(i => $"k{random.Next()}-{i}"), "", "A", "a", "\uFFFD", "\U0001F600"];
        byte[] Encoded(string key)
        {
            var buffer = new byte[StorageKeys.MaxEncodedBytes];
            return buffer[..StorageKeys.Encode(3, key, buffer)];
        }
        string[] byBytes = [.. keys.OrderBy(Encoded, Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))];
        string[] byOrder = [.. keys.OrderBy(k => k, StorageOrder.Instance)];
        Assert.Equal(byOrder, byBytes);
        Assert.All(keys, k => Assert.Equal((3, StorageOrder.TokenHigh64(k), k), StorageKeys.Decode(Encoded(k))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(11)]
    public void KeysShorterThanThePrefixAreRejected(int length)
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => StorageKeys.Decode(new byte[length]));
        Assert.Contains($"stored key is {length} bytes", error.Message);
        Assert.Contains("12-byte partition and token prefix", error.Message);
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

using System.Text;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;
using RocksDbSharp;

namespace Meteora.Tests.Net.Storage;

/// <summary>What only the RocksDB store promises beyond the shared contract.</summary>
public sealed class RocksDbStorageTests
{
    [Fact]
    public void WritesArrivingTogetherShareWalSyncs()
    {
        // The I/O thread is held inside its first completion while the other writes arrive, so they
        // must all wait behind one sync whatever the machine's load (no timing in this test).
        using var harness = new RocksDbStorageHarness();
        using var hold = new ManualResetEventSlim();
        harness.HoldFirstCompletion = hold;
        const int writes = 5_000;
        Write(harness, 1);
        Assert.True(harness.FirstCompletionArrived.Wait(RocksDbStorageHarness.CompletionTimeoutMs));
        long syncsBefore = harness.Rocks.SyncCount;
        for (int i = 2; i <= writes; i++) Write(harness, i);
        hold.Set();
        IReadOnlyList<Completion> completions = harness.CompleteAll(writes);
        Assert.All(completions, c => Assert.True(c.Durable));
        Assert.Equal(1, syncsBefore);
        Assert.Equal(2, harness.Rocks.SyncCount);
    }

    private static void Write(RocksDbStorageHarness harness, int i) =>
        harness.Storage.Write(i % 64, $"k{i}", new StoredValue(new WriteVersion(i, 1), Encoding.UTF8.GetBytes($"v{i}")), i);

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

    [Fact]
    public void ANewDirectoryGetsFormat2AndReopens()
    {
        using var dir = new TempDir("meteora-format");
        var sink = new NullSink();
        using (RocksDbStorage fresh = RocksDbStorage.Open(dir.Path, sink))
        {
            Assert.Equal([0, 0, 0, 2], fresh.ReadMetadata(RocksDbStorage.FormatMetadataKey));
            fresh.Write(5, "k", new StoredValue(new WriteVersion(1, 1), [1]), 1);
        }
        using RocksDbStorage reopened = RocksDbStorage.Open(dir.Path, sink);
        Assert.Equal([0, 0, 0, 2], reopened.ReadMetadata(RocksDbStorage.FormatMetadataKey));
        Assert.True(reopened.TryGet(5, "k", out StoredValue value));
        Assert.Equal([1], value.Value!);
    }

    [Fact]
    public void ADirectoryInTheOldKeyLayoutIsRefusedWithAClearMessage()
    {
        using var dir = new TempDir("meteora-format1");
        // What the previous version wrote: (partition u32 BE | key UTF-8) in "data", no storage-format in "meta".
        using (RocksDb old = OpenRaw(dir.Path))
        {
            old.Put(new byte[] { 0, 0, 0, 7, (byte)'k', (byte)'1' }, StoredValueCodecBytes(), old.GetColumnFamily(RocksDbStorage.DataFamily));
            old.Put(Encoding.UTF8.GetBytes("node-id"), new byte[] { 0, 0, 0, 0 }, old.GetColumnFamily(RocksDbStorage.MetadataFamily));
        }
        StorageFormatException error = Assert.Throws<StorageFormatException>(() => RocksDbStorage.Open(dir.Path, new NullSink()));
        Assert.Contains($"data directory {dir.Path} uses storage format 1", error.Message);
        Assert.Contains("needs storage format 2", error.Message);
        Assert.Contains("move the directory aside", error.Message);
        Assert.IsAssignableFrom<IOException>(error); // what `meteora node` reports as a one-line startup failure

        // Refusing released the database: it can be opened again (and is still refused, untouched).
        Assert.Throws<StorageFormatException>(() => RocksDbStorage.Open(dir.Path, new NullSink()));
        using RocksDb after = OpenRaw(dir.Path);
        Assert.Null(after.Get(Encoding.UTF8.GetBytes(RocksDbStorage.FormatMetadataKey), after.GetColumnFamily(RocksDbStorage.MetadataFamily)));
    }

    [Fact]
    public void ADirectoryWithDataInAnotherFormatIsRefused()
    {
        using var dir = new TempDir("meteora-format3");
        using (RocksDb other = OpenRaw(dir.Path))
        {
            other.Put(new byte[20], StoredValueCodecBytes(), other.GetColumnFamily(RocksDbStorage.DataFamily));
            other.Put(Encoding.UTF8.GetBytes(RocksDbStorage.FormatMetadataKey), new byte[] { 0, 0, 0, 3 }, other.GetColumnFamily(RocksDbStorage.MetadataFamily));
        }
        StorageFormatException error = Assert.Throws<StorageFormatException>(() => RocksDbStorage.Open(dir.Path, new NullSink()));
        Assert.Contains($"data directory {dir.Path} uses storage format 3; this version needs storage format 2", error.Message);
    }

    [Fact]
    public void AnOldDirectoryWithoutDataIsAdoptedAsFormat2()
    {
        using var dir = new TempDir("meteora-format-empty");
        using (RocksDb old = OpenRaw(dir.Path))
        {
            old.Put(Encoding.UTF8.GetBytes("node-id"), new byte[] { 0, 0, 0, 0 }, old.GetColumnFamily(RocksDbStorage.MetadataFamily));
        }
        using RocksDbStorage adopted = RocksDbStorage.Open(dir.Path, new NullSink());
        Assert.Equal([0, 0, 0, 2], adopted.ReadMetadata(RocksDbStorage.FormatMetadataKey));
        Assert.Equal([0, 0, 0, 0], adopted.ReadMetadata("node-id"));
    }

    private static RocksDb OpenRaw(string path) =>
        RocksDb.Open(
            new DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true),
            path,
            new ColumnFamilies
            {
                { RocksDbStorage.DataFamily, new ColumnFamilyOptions() },
                { RocksDbStorage.HintsFamily, new ColumnFamilyOptions() },
                { RocksDbStorage.MetadataFamily, new ColumnFamilyOptions() },
            });

    private static byte[] StoredValueCodecBytes() => StoredValueCodec.Encode(new StoredValue(new WriteVersion(1, 1), [1]));

    private sealed class NullSink : IStorageCompletionSink
    {
        public void OnStorageCompleted(long completionToken, bool durable)
        {
        }
    }
}

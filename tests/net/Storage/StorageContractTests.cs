using System.Text;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// The <see cref="IStorage"/> contract, run against every implementation: reads answer at once; a
/// write is visible at once; completions arrive once per operation, in submission order; a Sync
/// completes after every earlier write; versions, values, empty values and tombstones round-trip
/// exactly; what completed durably survives a restart; a scan walks one partition in UTF-8 byte order
/// after an exclusive cursor, in bounded slices; a purge removes only the exact tombstone it names.
/// </summary>
public abstract class StorageContractTests<THarness> where THarness : IStorageHarness, new()
{
    private static StoredValue Value(long micros, uint node, string text) => new(new WriteVersion(micros, node), Encoding.UTF8.GetBytes(text));

    [Fact]
    public void MissingKeyIsNotFound()
    {
        using var harness = new THarness();
        Assert.False(harness.Storage.TryGet(3, "nothing", out _));
    }

    [Fact]
    public void WriteIsVisibleBeforeItCompletes()
    {
        using var harness = new THarness();
        StoredValue value = Value(10, 1, "v");
        harness.Storage.Write(5, "k", value, completionToken: 1);
        Assert.True(harness.Storage.TryGet(5, "k", out StoredValue read));
        Assert.Equal(value, read);
        Assert.Equal([new Completion(1, true)], harness.CompleteAll(1));
    }

    [Fact]
    public void CompletionsArriveOnceEachInSubmissionOrder()
    {
        using var harness = new THarness();
        var expected = new List<Completion>();
        for (long token = 1; token <= 300; token++)
        {
            if (token % 7 == 0) harness.Storage.Sync(token);
            else harness.Storage.Write((int)(token % 50), $"key-{token % 50}", Value(token, 2, $"value-{token}"), token);
            expected.Add(new Completion(token, true));
        }
        Assert.Equal(expected, harness.CompleteAll(expected.Count));
    }

    [Fact]
    public void SyncWithNothingPendingCompletes()
    {
        using var harness = new THarness();
        harness.Storage.Sync(completionToken: 42);
        Assert.Equal([new Completion(42, true)], harness.CompleteAll(1));
    }

    [Fact]
    public void VersionsValuesEmptyValuesAndTombstonesRoundTrip()
    {
        using var harness = new THarness();
        var tombstone = StoredValue.Tombstone(new WriteVersion(long.MaxValue, uint.MaxValue));
        var empty = new StoredValue(new WriteVersion(1, 0), []);
        StoredValue binary = new(new WriteVersion(1_700_000_000_000_000, 7), [0, 255, 1, 254, 0]);
        harness.Storage.Write(0, "tomb", tombstone, 1);
        harness.Storage.Write(0, "empty", empty, 2);
        harness.Storage.Write(63, "binary", binary, 3);
        harness.CompleteAll(3);

        Assert.True(harness.Storage.TryGet(0, "tomb", out StoredValue readTomb));
        Assert.True(readTomb.IsTombstone);
        Assert.Equal(tombstone.Version, readTomb.Version);
        Assert.True(harness.Storage.TryGet(0, "empty", out StoredValue readEmpty));
        Assert.False(readEmpty.IsTombstone);
        Assert.Empty(readEmpty.Value!);
        Assert.True(harness.Storage.TryGet(63, "binary", out StoredValue readBinary));
        Assert.Equal(binary, readBinary);
    }

    [Fact]
    public void LaterWriteReplacesEarlierOne()
    {
        using var harness = new THarness();
        harness.Storage.Write(9, "k", Value(5, 1, "first"), 1);
        StoredValue second = Value(6, 2, "second");
        harness.Storage.Write(9, "k", second, 2);
        Assert.True(harness.Storage.TryGet(9, "k", out StoredValue read));
        Assert.Equal(second, read);
        harness.CompleteAll(2);
        Assert.True(harness.Storage.TryGet(9, "k", out read));
        Assert.Equal(second, read);
    }

    [Fact]
    public void LargestKeyAndValueFit()
    {
        using var harness = new THarness();
        string key = new string('é', 512); // 1024 UTF-8 bytes
        byte[] bytes = new byte[Meteora.Engine.Limits.MaxValueSizeBytes];
        new Random(1).NextBytes(bytes);
        var value = new StoredValue(new WriteVersion(99, 3), bytes);
        harness.Storage.Write(1, key, value, 1);
        harness.CompleteAll(1);
        Assert.True(harness.Storage.TryGet(1, key, out StoredValue read));
        Assert.Equal(value, read);
    }

    [Fact]
    public void CompletedWritesSurviveARestart()
    {
        using var harness = new THarness();
        var written = new Dictionary<string, StoredValue>();
        for (int i = 0; i < 100; i++)
        {
            StoredValue value = i % 10 == 0 ? StoredValue.Tombstone(new WriteVersion(i + 1, 1)) : Value(i + 1, 1, $"v{i}");
            harness.Storage.Write(i % 16, $"k{i}", value, i + 1);
            written[$"k{i}"] = value;
        }
        Assert.All(harness.CompleteAll(100), c => Assert.True(c.Durable));
        harness.Restart();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(harness.Storage.TryGet(i % 16, $"k{i}", out StoredValue read), $"k{i} lost");
            Assert.Equal(written[$"k{i}"], read);
        }
    }

    [Fact]
    public void ScanWalksOnePartitionInUtf8OrderInSlices()
    {
        using var harness = new THarness();
        string[] keys = ["b", "a", "\U0001F600", "\uFFFD", "aa", "z", "A"];
        long token = 0;
        foreach (string key in keys) harness.Storage.Write(7, key, Value(++token, 1, key), token);
        harness.Storage.Write(7, "dead", StoredValue.Tombstone(new WriteVersion(++token, 1)), token);
        harness.Storage.Write(6, "other-6", Value(++token, 1, "six"), token);
        harness.Storage.Write(8, "other-8", Value(++token, 1, "eight"), token);
        harness.CompleteAll((int)token);

        var all = new List<KeyValuePair<string, StoredValue>>();
        string? after = null;
        for (int slices = 0; ; slices++)
        {
            Assert.True(slices <= keys.Length, "scan does not end");
            var slice = new List<KeyValuePair<string, StoredValue>>();
            int added = harness.Storage.Scan(7, after, slice, maxCount: 3);
            Assert.Equal(slice.Count, added);
            Assert.InRange(added, 0, 3);
            if (added == 0) break;
            all.AddRange(slice);
            after = slice[^1].Key;
        }
        // UTF-8 byte order: 'A' < 'a', and U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
        Assert.Equal(["A", "a", "aa", "b", "dead", "z", "\uFFFD", "\U0001F600"], all.Select(e => e.Key));
        Assert.True(all.Single(e => e.Key == "dead").Value.IsTombstone);
        Assert.Equal(Value(3, 1, "\U0001F600"), all.Single(e => e.Key == "\U0001F600").Value);
    }

    [Fact]
    public void ScanCursorIsExclusiveAndNeedNotBeAStoredKey()
    {
        using var harness = new THarness();
        long token = 0;
        foreach (string key in new[] { "k1", "k2", "k3" }) harness.Storage.Write(2, key, Value(++token, 1, key), token);
        harness.CompleteAll((int)token);

        Assert.Equal(["k2", "k3"], ScanKeys(harness.Storage, 2, "k1", 10));
        Assert.Equal(["k2", "k3"], ScanKeys(harness.Storage, 2, "k1a", 10));
        Assert.Equal(["k1", "k2", "k3"], ScanKeys(harness.Storage, 2, "", 10));
        Assert.Empty(ScanKeys(harness.Storage, 2, "k3", 10));
        Assert.Empty(ScanKeys(harness.Storage, 2, "zzz", 10));
        Assert.Empty(ScanKeys(harness.Storage, 3, null, 10));
        Assert.Equal(["k1"], ScanKeys(harness.Storage, 2, null, 1));
    }

    [Fact]
    public void ScanAppendsToWhatTheOutputAlreadyHolds()
    {
        using var harness = new THarness();
        harness.Storage.Write(4, "k", Value(1, 1, "v"), 1);
        harness.CompleteAll(1);
        var output = new List<KeyValuePair<string, StoredValue>> { new("earlier", Value(9, 9, "x")) };
        Assert.Equal(1, harness.Storage.Scan(4, null, output, 10));
        Assert.Equal(["earlier", "k"], output.Select(e => e.Key));
    }

    [Fact]
    public void PurgeRemovesOnlyTheExactTombstone()
    {
        using var harness = new THarness();
        var tombstone = StoredValue.Tombstone(new WriteVersion(5, 1));
        harness.Storage.Write(1, "gone", tombstone, 1);
        harness.Storage.Write(1, "newer", StoredValue.Tombstone(new WriteVersion(9, 1)), 2);
        harness.Storage.Write(1, "live", Value(5, 1, "alive"), 3);
        harness.Storage.Purge(1, "gone", tombstone.Version, 4);
        harness.Storage.Purge(1, "newer", tombstone.Version, 5);
        harness.Storage.Purge(1, "live", tombstone.Version, 6);
        harness.Storage.Purge(1, "missing", tombstone.Version, 7);
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], harness.CompleteAll(7).Select(c => (int)c.Token));
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
        Assert.True(harness.Storage.TryGet(1, "newer", out StoredValue newer));
        Assert.Equal(new WriteVersion(9, 1), newer.Version);
        Assert.True(harness.Storage.TryGet(1, "live", out StoredValue live));
        Assert.False(live.IsTombstone);
        Assert.Equal(["live", "newer"], ScanKeys(harness.Storage, 1, null, 10));

        harness.Restart();
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
        Assert.True(harness.Storage.TryGet(1, "newer", out _));
        Assert.True(harness.Storage.TryGet(1, "live", out _));
        Assert.Equal(["live", "newer"], ScanKeys(harness.Storage, 1, null, 10));
    }

    private static List<string> ScanKeys(IStorage storage, int partition, string? after, int maxCount)
    {
        var output = new List<KeyValuePair<string, StoredValue>>();
        storage.Scan(partition, after, output, maxCount);
        return [.. output.Select(e => e.Key)];
    }
}

public sealed class InMemoryStorageContractTests : StorageContractTests<InMemoryStorageHarness>;

public sealed class RocksDbStorageContractTests : StorageContractTests<RocksDbStorageHarness>;

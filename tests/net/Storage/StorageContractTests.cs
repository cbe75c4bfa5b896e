using System.Text;
using Meteora.Engine.Merkle;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// The <see cref="IStorage"/> contract, run against every implementation: reads answer at once; a
/// write is visible at once; completions arrive once per operation, in submission order; a Sync
/// completes after every earlier write; versions, values, empty values and tombstones round-trip
/// exactly; what completed durably survives a restart; a scan walks one token range of one partition
/// in storage order (token high 64, then UTF-8 bytes) after an exclusive cursor, in bounded slices;
/// a purge removes only the exact tombstone it names.
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
    public void ScanWalksOnePartitionInStorageOrderInSlices()
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
            int added = harness.Storage.Scan(7, TokenRange.All, after, slice, maxCount: 3);
            Assert.Equal(slice.Count, added);
            Assert.InRange(added, 0, 3);
            if (added == 0) break;
            all.AddRange(slice);
            after = slice[^1].Key;
        }
        // By token (top 64 bits), not by key: "a" and "aa" are far apart, whatever their bytes say.
        Assert.Equal(ModelOrder([.. keys, "dead"]), all.Select(e => e.Key));
        Assert.True(all.Single(e => e.Key == "dead").Value.IsTombstone);
        Assert.Equal(Value(3, 1, "\U0001F600"), all.Single(e => e.Key == "\U0001F600").Value);
    }

    [Fact]
    public void ScanCursorIsExclusiveAndNeedNotBeAStoredKey()
    {
        using var harness = new THarness();
        string[] keys = ["k1", "k2", "k3", "k4", "k5"];
        long token = 0;
        foreach (string key in keys) harness.Storage.Write(2, key, Value(++token, 1, key), token);
        harness.CompleteAll((int)token);
        string[] ordered = ModelOrder(keys);

        Assert.Equal(ordered[1..], ScanKeys(harness.Storage, 2, ordered[0], 10));
        Assert.Empty(ScanKeys(harness.Storage, 2, ordered[^1], 10));
        Assert.Empty(ScanKeys(harness.Storage, 3, null, 10));
        Assert.Equal([ordered[0]], ScanKeys(harness.Storage, 2, null, 1));
        foreach (string cursor in new[] { "", "k1a", "k0", "zzz", "\U0001F600" })
        {
            Assert.Equal(Model(keys, TokenRange.All, cursor, 10), ScanKeys(harness.Storage, 2, cursor, 10));
        }
    }

    [Fact]
    public void ScanAppendsToWhatTheOutputAlreadyHolds()
    {
        using var harness = new THarness();
        harness.Storage.Write(4, "k", Value(1, 1, "v"), 1);
        harness.CompleteAll(1);
        var output = new List<KeyValuePair<string, StoredValue>> { new("earlier", Value(9, 9, "x")) };
        Assert.Equal(1, harness.Storage.Scan(4, TokenRange.All, null, output, 10));
        Assert.Equal(["earlier", "k"], output.Select(e => e.Key));
    }

    [Fact]
    public void DroppingAPartitionRemovesItsKeysAtOnceAndNoOtherPartitions()
    {
        using var harness = new THarness();
        harness.Storage.Write(2, "a", Value(1, 1, "a"), 1);
        harness.Storage.Write(2, "b", Value(1, 1, "b"), 2);
        harness.Storage.Write(3, "c", Value(1, 1, "kept"), 3);
        // Read first, so a store that caches what it read must forget it too.
        Assert.True(harness.Storage.TryGet(2, "a", out _));
        harness.Storage.DropPartition(2, 4);
        Assert.False(harness.Storage.TryGet(2, "a", out _));
        Assert.False(harness.Storage.TryGet(2, "b", out _));
        Assert.Equal([1, 2, 3, 4], harness.CompleteAll(4).Select(c => (int)c.Token));
        Assert.True(harness.Storage.TryGet(3, "c", out StoredValue kept));
        Assert.Equal("kept", Encoding.UTF8.GetString(kept.Value!));

        harness.Restart();
        Assert.False(harness.Storage.TryGet(2, "a", out _));
        Assert.True(harness.Storage.TryGet(3, "c", out _));
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
        Assert.Equal(ModelOrder(["live", "newer"]), ScanKeys(harness.Storage, 1, null, 10));

        harness.Restart();
        Assert.False(harness.Storage.TryGet(1, "gone", out _));
        Assert.True(harness.Storage.TryGet(1, "newer", out _));
        Assert.True(harness.Storage.TryGet(1, "live", out _));
        Assert.Equal(ModelOrder(["live", "newer"]), ScanKeys(harness.Storage, 1, null, 10));
    }

    [Fact]
    public void ARangeScanReturnsExactlyTheEntriesInsideTheRangeInStorageOrder()
    {
        using var harness = new THarness();
        string[] keys = WriteKeys(harness, partition: 5, count: 400, seed: 1);
        harness.Storage.Write(4, "neighbour-4", Value(1, 1, "x"), 1_000);
        harness.Storage.Write(6, "neighbour-6", Value(1, 1, "x"), 1_001);
        harness.CompleteAll(keys.Length + 2);

        // Leaves of the partition the keys are filed under here (any range works: the store does not care which partition a key hashes to).
        var tree = new MerkleTree(depth: 3, partitionCount: 1);
        var ranges = Enumerable.Range(0, tree.LeafCount).Select(leaf => tree.LeafRange(0, leaf)).ToList();
        ranges.Add(TokenRange.All);
        ulong middle = StorageOrder.TokenHigh64(ModelOrder(keys)[keys.Length / 2]);
        ranges.Add(new TokenRange(middle, middle)); // exactly one token
        ranges.Add(new TokenRange(middle + 1, middle + 1)); // very likely empty
        ranges.Add(new TokenRange(0, middle));
        ranges.Add(new TokenRange(middle, ulong.MaxValue));
        var seen = new List<string>();
        for (int i = 0; i < ranges.Count; i++)
        {
            TokenRange range = ranges[i];
            List<string> scanned = ScanKeys(harness.Storage, 5, range, null, 1_000);
            Assert.Equal(Model(keys, range, null, 1_000), scanned);
            Assert.All(scanned, k => Assert.True(range.Contains(StorageOrder.TokenHigh64(k)), $"{k} is outside {range}"));
            if (i < tree.LeafCount) seen.AddRange(scanned);
        }
        Assert.Equal(ModelOrder(keys), seen); // the leaves, in order, are the whole partition in order
        Assert.Single(ScanKeys(harness.Storage, 5, new TokenRange(middle, middle), null, 10));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void ARangeScannedInSlicesEqualsOneBigScan(int sliceSize)
    {
        using var harness = new THarness();
        string[] keys = WriteKeys(harness, partition: 9, count: 120, seed: 2);
        harness.CompleteAll(keys.Length);
        string[] ordered = ModelOrder(keys);
        TokenRange[] ranges =
        [
            TokenRange.All,
            new(StorageOrder.TokenHigh64(ordered[10]), StorageOrder.TokenHigh64(ordered[80])),
            new(StorageOrder.TokenHigh64(ordered[10]) + 1, StorageOrder.TokenHigh64(ordered[80]) - 1),
            new MerkleTree(2, 1).LeafRange(0, 1),
        ];
        foreach (TokenRange range in ranges)
        {
            List<string> whole = ScanKeys(harness.Storage, 9, range, null, 10_000);
            var sliced = new List<string>();
            string? after = null;
            while (true)
            {
                List<string> slice = ScanKeys(harness.Storage, 9, range, after, sliceSize);
                Assert.InRange(slice.Count, 0, sliceSize);
                sliced.AddRange(slice);
                if (slice.Count < sliceSize) break;
                after = slice[^1];
                Assert.True(sliced.Count <= keys.Length, "sliced scan does not end");
            }
            Assert.Equal(whole, sliced);
            Assert.Equal(Model(keys, range, null, 10_000), whole);
        }
    }

    [Fact]
    public void ACursorOutsideTheRangeStartsAtItsBeginningOrEndsTheScan()
    {
        using var harness = new THarness();
        string[] keys = WriteKeys(harness, partition: 3, count: 60, seed: 3);
        harness.CompleteAll(keys.Length);
        string[] ordered = ModelOrder(keys);
        var range = new TokenRange(StorageOrder.TokenHigh64(ordered[20]), StorageOrder.TokenHigh64(ordered[39]));
        string[] inside = ordered[20..40];
        Assert.Equal(inside, ScanKeys(harness.Storage, 3, range, ordered[5], 100)); // before the range: from its start
        Assert.Equal(inside, ScanKeys(harness.Storage, 3, range, ordered[19], 100));
        Assert.Equal(inside[1..], ScanKeys(harness.Storage, 3, range, ordered[20], 100));
        Assert.Empty(ScanKeys(harness.Storage, 3, range, ordered[39], 100));
        Assert.Empty(ScanKeys(harness.Storage, 3, range, ordered[50], 100)); // after the range: nothing
    }

    /// <summary>Random ranges, cursors (stored or not, inside or outside) and slice sizes against a naive model, after writes, overwrites, tombstones and purges.</summary>
    [Fact]
    public void RangeScansMatchANaiveModel()
    {
        using var harness = new THarness();
        var random = new Random(20_240_611);
        var live = new Dictionary<string, StoredValue>(StringComparer.Ordinal);
        long token = 0;
        for (int i = 0; i < 600; i++)
        {
            string key = random.Next(4) == 0 ? $"ü{random.Next(300)}" : $"key{random.Next(300)}";
            StoredValue value = random.Next(6) == 0 ? StoredValue.Tombstone(new WriteVersion(++token, 1)) : Value(++token, 1, key);
            harness.Storage.Write(11, key, value, token);
            live[key] = value;
            harness.Storage.Write(12, "p12-" + key, value, ++token);
        }
        foreach (var (key, value) in live.Where(e => e.Value.IsTombstone).Take(20).ToList())
        {
            harness.Storage.Purge(11, key, value.Version, ++token);
            live.Remove(key);
        }
        harness.CompleteAll((int)token);
        string[] keys = [.. live.Keys];

        for (int query = 0; query < 300; query++)
        {
            TokenRange range = random.Next(5) switch
            {
                0 => TokenRange.All,
                1 => Leaf(random, random.Next(1, 9)),
                _ => Between(random),
            };
            string? after = random.Next(4) switch
            {
                0 => null,
                1 => keys[random.Next(keys.Length)],
                _ => $"key{random.Next(400)}x",
            };
            int maxCount = random.Next(1, 50);
            List<string> scanned = ScanKeys(harness.Storage, 11, range, after, maxCount, out var values);
            Assert.Equal(Model(keys, range, after, maxCount), scanned);
            for (int i = 0; i < scanned.Count; i++) Assert.Equal(live[scanned[i]], values[i]);
        }

        static TokenRange Leaf(Random random, int depth)
        {
            var tree = new MerkleTree(depth, 1);
            return tree.LeafRange(0, random.Next(tree.LeafCount));
        }

        static TokenRange Between(Random random)
        {
            ulong a = (ulong)random.NextInt64(long.MinValue, long.MaxValue);
            ulong b = random.Next(3) == 0 ? a : (ulong)random.NextInt64(long.MinValue, long.MaxValue);
            return new TokenRange(Math.Min(a, b), Math.Max(a, b));
        }
    }

    private static string[] WriteKeys(THarness harness, int partition, int count, int seed)
    {
        var random = new Random(seed);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (keys.Count < count) keys.Add(random.Next(3) == 0 ? $"é{random.Next()}" : $"k{random.Next()}");
        long token = 0;
        foreach (string key in keys) harness.Storage.Write(partition, key, Value(++token, 1, key), token);
        return [.. keys];
    }

    // ---------------------------------------------------------------- naive model of the scan order

    /// <summary>Storage order spelled out independently: token's top 64 bits, then the key's UTF-8 bytes.</summary>
    private static string[] ModelOrder(IEnumerable<string> keys) =>
        [.. keys.OrderBy(ModelToken).ThenBy(k => Encoding.UTF8.GetBytes(k), Utf8Bytes)];

    private static List<string> Model(IEnumerable<string> keys, TokenRange range, string? after, int maxCount) =>
        [.. ModelOrder(keys)
            .Where(k => ModelToken(k) >= range.First && ModelToken(k) <= range.Last)
            .Where(k => after is null || ModelCompare(k, after) > 0)
            .Take(maxCount)];

    private static ulong ModelToken(string key) => (ulong)(Meteora.Engine.Hashing.Token.OfKey(key).Value >> 64);

    private static int ModelCompare(string a, string b)
    {
        int byToken = ModelToken(a).CompareTo(ModelToken(b));
        return byToken != 0 ? byToken : Utf8Bytes.Compare(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
    }

    private static readonly Comparer<byte[]> Utf8Bytes = Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y));

    private static Meteora.Engine.Handoff.Hint Hint(int target, long sequence, string key, long micros, string? text) =>
        new(target, sequence, key, new WriteVersion(micros, 7), text is null ? null : Encoding.UTF8.GetBytes(text), StoredAtMicros: 1_000 + sequence);

    private static List<Meteora.Engine.Handoff.Hint> Hints(IStorage storage)
    {
        var hints = new List<Meteora.Engine.Handoff.Hint>();
        storage.ReadHints(hints);
        return hints;
    }

    [Fact]
    public void HintsRoundTripInTargetThenSequenceOrderAndCompleteInLineWithWrites()
    {
        using var harness = new THarness();
        Assert.True(harness.Storage.SupportsHints);
        var written = new[]
        {
            Hint(3, 2, "k-ü€", 20, "b"),
            Hint(1, 9, "k", 10, null), // a hinted delete
            Hint(3, 1, "k", 30, ""),
            Hint(256, 4, new string('x', Meteora.Engine.Limits.MaxKeySizeBytes), 40, "big"),
        };
        harness.Storage.WriteHint(written[0], 1);
        harness.Storage.Write(0, "data", Value(5, 1, "d"), 2);
        harness.Storage.WriteHint(written[1], 3);
        harness.Storage.WriteHint(written[2], 4);
        harness.Storage.WriteHint(written[3], 5);
        Assert.Equal([written[1], written[2], written[0], written[3]], Hints(harness.Storage)); // visible at once, by target then sequence
        Assert.Equal([new(1, true), new(2, true), new(3, true), new(4, true), new(5, true)], harness.CompleteAll(5));
    }

    [Fact]
    public void DurableHintsSurviveARestartAndDeletedOnesStayDeleted()
    {
        using var harness = new THarness();
        harness.Storage.WriteHint(Hint(2, 1, "a", 10, "x"), 1);
        harness.Storage.WriteHint(Hint(2, 2, "b", 11, "y"), 2);
        harness.CompleteAll(2);
        harness.Storage.DeleteHint(2, 1, 3);
        Assert.Equal([Hint(2, 2, "b", 11, "y")], Hints(harness.Storage));
        harness.CompleteAll(3);
        harness.Restart();
        Assert.Equal([Hint(2, 2, "b", 11, "y")], Hints(harness.Storage));
    }

    private static List<string> ScanKeys(IStorage storage, int partition, string? after, int maxCount) =>
        ScanKeys(storage, partition, TokenRange.All, after, maxCount);

    private static List<string> ScanKeys(IStorage storage, int partition, TokenRange range, string? after, int maxCount) =>
        ScanKeys(storage, partition, range, after, maxCount, out _);

    private static List<string> ScanKeys(IStorage storage, int partition, TokenRange range, string? after, int maxCount, out List<StoredValue> values)
    {
        var output = new List<KeyValuePair<string, StoredValue>>();
        int added = storage.Scan(partition, range, after, output, maxCount);
        Assert.Equal(output.Count, added);
        values = [.. output.Select(e => e.Value)];
        return [.. output.Select(e => e.Key)];
    }
}

public sealed class InMemoryStorageContractTests : StorageContractTests<InMemoryStorageHarness>;

public sealed class RocksDbStorageContractTests : StorageContractTests<RocksDbStorageHarness>;

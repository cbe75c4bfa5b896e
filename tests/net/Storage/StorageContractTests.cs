using System.Text;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// The <see cref="IStorage"/> contract, run against every implementation: reads answer at once; a
/// write is visible at once; completions arrive once per operation, in submission order; a Sync
/// completes after every earlier write; versions, values, empty values and tombstones round-trip
/// exactly; what completed durably survives a restart.
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
}

public sealed class InMemoryStorageContractTests : StorageContractTests<InMemoryStorageHarness>;

public sealed class RocksDbStorageContractTests : StorageContractTests<RocksDbStorageHarness>;

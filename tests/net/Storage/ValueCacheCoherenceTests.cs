using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// The value cache is invisible: a RocksDB store with a cache so small that entries keep aging out
/// answers every read exactly like a model of what was written, through writes, overwrites,
/// tombstones, purges, dropped partitions and restarts. A write path that forgot to update the cache
/// would show as a stale read here.
/// </summary>
public sealed class ValueCacheCoherenceTests
{
    private const int Partitions = 3;
    private const int KeysPerPartition = 24;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_through_a_tiny_cache_match_a_model_of_the_writes(int seed)
    {
        var random = new Random(seed);
        using var dir = new TempDir("meteora-value-cache");
        var sink = new CollectingCompletionSink();
        // ~20 entries fit: far fewer than the 72 keys, so hits, misses and evictions all happen.
        const long tinyCacheBytes = 4 * 1024;
        RocksDbStorage storage = RocksDbStorage.Open(dir.Path, sink, valueCacheBytes: tinyCacheBytes);
        var model = new Dictionary<(int, string), StoredValue>();
        long token = 0;
        long micros = 0;
        try
        {
            for (int step = 0; step < 3_000; step++)
            {
                int partition = random.Next(Partitions);
                string key = "k" + random.Next(KeysPerPartition);
                int action = random.Next(100);
                if (action < 40)
                {
                    var value = new StoredValue(new WriteVersion(++micros, 1), RandomBytes(random));
                    storage.Write(partition, key, value, ++token);
                    model[(partition, key)] = value;
                }
                else if (action < 50)
                {
                    var tombstone = StoredValue.Tombstone(new WriteVersion(++micros, 1));
                    storage.Write(partition, key, tombstone, ++token);
                    model[(partition, key)] = tombstone;
                }
                else if (action < 58)
                {
                    // Purge names the current version half the time, so it sometimes removes and sometimes must not.
                    WriteVersion named = model.TryGetValue((partition, key), out StoredValue? held) && random.Next(2) == 0
                        ? held.Version
                        : new WriteVersion(micros + 1, 1);
                    storage.Purge(partition, key, named, ++token);
                    if (held is { IsTombstone: true } && held.Version == named) model.Remove((partition, key));
                }
                else if (action < 59)
                {
                    storage.DropPartition(partition, ++token);
                    foreach ((int, string) gone in model.Keys.Where(k => k.Item1 == partition).ToList()) model.Remove(gone);
                }
                else if (action < 60)
                {
                    sink.WaitFor((int)token);
                    storage.Dispose();
                    storage = RocksDbStorage.Open(dir.Path, sink, valueCacheBytes: tinyCacheBytes);
                }
                else
                {
                    AssertReadsLikeModel(storage, model, partition, key, step);
                }
                Assert.True(storage.Values.SizeBytes <= tinyCacheBytes, $"cache holds {storage.Values.SizeBytes} bytes at step {step}");
            }
            for (int partition = 0; partition < Partitions; partition++)
            {
                for (int k = 0; k < KeysPerPartition; k++) AssertReadsLikeModel(storage, model, partition, "k" + k, -1);
            }
            Assert.True(storage.Values.Hits > 0, "the cache was never hit: the test would not notice a stale entry");
        }
        finally
        {
            storage.Dispose();
        }
    }

    private static void AssertReadsLikeModel(RocksDbStorage storage, Dictionary<(int, string), StoredValue> model, int partition, string key, int step)
    {
        bool expected = model.TryGetValue((partition, key), out StoredValue? want);
        bool found = storage.TryGet(partition, key, out StoredValue got);
        Assert.True(expected == found, $"step {step}: {partition}/{key} found={found}, model has it={expected}");
        if (expected) Assert.Equal(want, got);
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }
}

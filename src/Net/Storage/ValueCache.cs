using Meteora.Engine.Versioning;

namespace Meteora.Net.Storage;

/// <summary>
/// Decoded values of recently read or written keys, in front of RocksDB's data family. Every write
/// path of <see cref="RocksDbStorage"/> updates it after RocksDB accepted the change, so it never
/// holds anything RocksDB would not answer. Used only on the event loop thread, like the writes.
/// <para>
/// Why: every set reads the key's current version before writing (last-writer-wins and sibling
/// checks), and every get reads it. A memtable lookup is a skip-list search of several microseconds
/// with cache misses, 20-30 % of the loop thread's time under load (issue 11, perf); a hit here is a
/// dictionary lookup.
/// </para>
/// <para>
/// Bounded by bytes with two generations: entries go into the young one; when it holds half the
/// capacity it becomes the old one and the previous old one is dropped. A hit in the old generation
/// moves the entry back to the young one, so keys in use survive and the rest age out (an
/// approximation of LRU without a list node per entry).
/// </para>
/// </summary>
public sealed class ValueCache
{
    /// <summary>Bookkeeping per entry beyond key and value bytes (dictionary slot, record, array headers).</summary>
    public const int EntryOverheadBytes = 96;

    private readonly long _generationBytes;
    private Dictionary<CacheKey, StoredValue> _young = new();
    private Dictionary<CacheKey, StoredValue> _old = new();
    private long _youngBytes;
    private long _oldBytes;

    public ValueCache(long capacityBytes)
    {
        if (capacityBytes < 2 * EntryOverheadBytes) throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, $"a value cache needs at least {2 * EntryOverheadBytes} bytes");
        _generationBytes = capacityBytes / 2;
    }

    /// <summary>Bytes held (both generations); read by metrics from another thread, so approximate there (a long is read whole on x64).</summary>
    public long SizeBytes => Volatile.Read(ref _youngBytes) + Volatile.Read(ref _oldBytes);

    public int Count => _young.Count + _old.Count;

    /// <summary>Reads answered here (tests use it to prove the cache was exercised).</summary>
    public long Hits { get; private set; }

    public bool TryGet(int partition, string key, out StoredValue value)
    {
        if (_young.TryGetValue(new CacheKey(partition, key), out value!))
        {
            Hits++;
            return true;
        }
        if (_old.Remove(new CacheKey(partition, key), out value!))
        {
            _oldBytes -= SizeOf(key, value);
            Hits++;
            Add(partition, key, value);
            return true;
        }
        return false;
    }

    /// <summary>RocksDB now holds <paramref name="value"/> for the key (a write, or a read that missed here).</summary>
    public void Set(int partition, string key, StoredValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Remove(partition, key);
        Add(partition, key, value);
    }

    /// <summary>RocksDB no longer holds the key.</summary>
    public void Remove(int partition, string key)
    {
        if (_old.Remove(new CacheKey(partition, key), out StoredValue? older)) _oldBytes -= SizeOf(key, older);
        if (_young.Remove(new CacheKey(partition, key), out StoredValue? previous)) _youngBytes -= SizeOf(key, previous);
    }

    /// <summary>RocksDB no longer holds any key of <paramref name="partition"/> (rare: the partition moved away).</summary>
    public void RemovePartition(int partition)
    {
        _youngBytes -= RemovePartition(_young, partition);
        _oldBytes -= RemovePartition(_old, partition);
    }

    public void Clear()
    {
        _young.Clear();
        _old.Clear();
        _youngBytes = 0;
        _oldBytes = 0;
    }

    private void Add(int partition, string key, StoredValue value)
    {
        long size = SizeOf(key, value);
        if (size > _generationBytes) return; // larger than a generation: not worth holding
        if (_youngBytes + size > _generationBytes)
        {
            // The young generation is full: it becomes the old one, and the old one is dropped.
            (_young, _old) = (_old, _young);
            _young.Clear();
            _oldBytes = _youngBytes;
            _youngBytes = 0;
        }
        _young[new CacheKey(partition, key)] = value;
        _youngBytes += size;
    }

    private static long RemovePartition(Dictionary<CacheKey, StoredValue> generation, int partition)
    {
        long removedBytes = 0;
        List<CacheKey>? doomed = null;
        foreach (KeyValuePair<CacheKey, StoredValue> entry in generation)
        {
            if (entry.Key.Partition != partition) continue;
            (doomed ??= []).Add(entry.Key);
            removedBytes += SizeOf(entry.Key.Key, entry.Value);
        }
        if (doomed is not null) foreach (CacheKey key in doomed) generation.Remove(key);
        return removedBytes;
    }

    /// <summary>A struct key of its own: a (int, string) tuple runs shared generic code that looks its comparers up at run time.</summary>
    private readonly record struct CacheKey(int Partition, string Key);

    private static long SizeOf(string key, StoredValue value) => EntryOverheadBytes + 2L * key.Length + (value.Value?.Length ?? 0);
}

using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// RocksDB group commit: how many operations each WAL fsync covered and how long it took (observed on
/// the storage I/O thread, once per sync), plus totals read from the storage's own counters at scrape.
/// </summary>
public sealed class StorageMetrics
{
    /// <summary>1, 2, 4 … 65,536 operations per sync: a busy node shares one fsync among thousands of writes.</summary>
    private static readonly double[] OperationsPerSyncBuckets = Histogram.ExponentialBuckets(1, 2, 17);

    /// <summary>50 µs doubling to about 3.3 s: tmpfs answers in microseconds, a loaded disk in tens of ms.</summary>
    private static readonly double[] SyncBucketsSeconds = Histogram.ExponentialBuckets(0.00005, 2, 17);

    private readonly Histogram _writesPerSync;
    private readonly Histogram _syncDuration;
    private readonly Gauge.Child _memtables;
    private readonly Gauge.Child _blockCache;
    private readonly Gauge.Child _tableReaders;
    private readonly Gauge.Child _valueCache;

    public StorageMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _writesPerSync = factory.CreateHistogram("meteora_storage_writes_per_sync",
            "Storage operations (writes, purges, sync barriers) made durable by one WAL fsync (group commit).",
            new HistogramConfiguration { Buckets = OperationsPerSyncBuckets });
        _syncDuration = factory.CreateHistogram("meteora_storage_wal_sync_duration_seconds",
            "Time one WAL fsync took.", new HistogramConfiguration { Buckets = SyncBucketsSeconds });
        Writes = factory.CreateCounter("meteora_storage_writes_total", "Key writes and purges applied to RocksDB (not yet durable).");
        WriteFailures = factory.CreateCounter("meteora_storage_write_failures_total", "Key writes and purges RocksDB refused.");
        Syncs = factory.CreateCounter("meteora_storage_wal_syncs_total", "WAL fsyncs that succeeded.");
        Completed = factory.CreateCounter("meteora_storage_operations_completed_total", "Storage operations reported back to the engine after their sync.");
        Gauge memory = factory.CreateGauge("meteora_storage_memory_bytes",
            "Storage memory by kind: RocksDB's memtables (all families), block_cache (data, index and filter blocks) and table_readers, and Meteora's value_cache in front of RocksDB.", ["kind"]);
        _memtables = memory.WithLabels("memtables");
        _blockCache = memory.WithLabels("block_cache");
        _tableReaders = memory.WithLabels("table_readers");
        _valueCache = memory.WithLabels("value_cache");
    }

    /// <summary>Read at scrape from RocksDB's own properties.</summary>
    public void SetMemory(Storage.RocksDbMemoryUsage usage)
    {
        _memtables.Set(usage.MemtableBytes);
        _blockCache.Set(usage.BlockCacheBytes);
        _tableReaders.Set(usage.TableReaderBytes);
        _valueCache.Set(usage.ValueCacheBytes);
    }

    internal Counter Writes { get; }
    internal Counter WriteFailures { get; }
    internal Counter Syncs { get; }
    internal Counter Completed { get; }

    /// <summary>Called by the storage I/O thread after each WAL sync.</summary>
    public void ObserveSync(int operations, TimeSpan elapsed)
    {
        _writesPerSync.Observe(operations);
        _syncDuration.Observe(elapsed.TotalSeconds);
    }
}

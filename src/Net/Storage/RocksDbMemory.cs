using RocksDbSharp;

namespace Meteora.Net.Storage;

/// <summary>
/// Explicit bounds on RocksDB's memory, so a node's RSS levels off under load instead of following
/// library defaults (64 MiB memtables per column family, two each; index and filter blocks outside any
/// cache). All memtables share one write-buffer budget; index and filter blocks live in the block cache.
/// </summary>
public static class RocksDbMemory
{
    /// <summary>All memtables of the database together: past this RocksDB flushes the largest one.</summary>
    public const ulong WriteBufferBudgetBytes = 64UL * 1024 * 1024;

    /// <summary>One memtable of the data family (at most two exist: one filling, one flushing).</summary>
    public const ulong DataWriteBufferBytes = 32UL * 1024 * 1024;

    /// <summary>One memtable of the hints family (hints are written once and read once on replay).</summary>
    public const ulong HintsWriteBufferBytes = 16UL * 1024 * 1024;

    /// <summary>The metadata family holds a few small records (format, saved ring).</summary>
    public const ulong MetadataWriteBufferBytes = 1UL * 1024 * 1024;

    /// <summary>Data blocks plus index and filter blocks of every family.</summary>
    public const ulong BlockCacheBytes = 32UL * 1024 * 1024;

    /// <summary>Decoded values of recently used keys in front of the data family (<see cref="ValueCache"/>).</summary>
    public const long ValueCacheBytes = 16L * 1024 * 1024;

    /// <summary>Memtables filling or flushing per family.</summary>
    public const int MaxWriteBuffersPerFamily = 2;

    public static DbOptions Apply(DbOptions options) => options.SetDbWriteBufferSize(WriteBufferBudgetBytes);

    /// <summary>Options of one family; <paramref name="blockCache"/> is shared by all families of a database.</summary>
    public static ColumnFamilyOptions Family(ulong writeBufferBytes, Cache blockCache)
    {
        var table = new BlockBasedTableOptions()
            .SetBlockCache(blockCache)
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true);
        return new ColumnFamilyOptions()
            .SetWriteBufferSize(writeBufferBytes)
            .SetMaxWriteBufferNumber(MaxWriteBuffersPerFamily)
            .SetBlockBasedTableFactory(table);
    }
}

/// <summary>RocksDB's own account of its memory, and the value cache in front of it (read at metrics scrape).</summary>
public readonly record struct RocksDbMemoryUsage(long MemtableBytes, long BlockCacheBytes, long TableReaderBytes, long ValueCacheBytes);

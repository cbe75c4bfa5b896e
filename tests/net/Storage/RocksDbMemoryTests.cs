using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>RocksDB's memory is bounded by our options and reported as RocksDB counts it (issue 11: RSS flat under load).</summary>
public sealed class RocksDbMemoryTests
{
    [Fact]
    public void Memtables_report_what_was_written_and_stay_within_the_write_buffer_budget()
    {
        using var dir = new TempDir();
        var sink = new CollectingCompletionSink();
        using RocksDbStorage storage = RocksDbStorage.Open(dir.Path, sink);
        var value = new byte[1024];
        // 96 MiB written: more than the whole write-buffer budget, so memtables must have been flushed.
        for (int i = 0; i < 96 * 1024; i++)
        {
            storage.Write(i % 64, $"key-{i}", new StoredValue(new WriteVersion(i + 1, 1), value), i + 1);
        }
        RocksDbMemoryUsage usage = storage.MemoryUsage();
        Assert.InRange(usage.MemtableBytes, 1, (long)(RocksDbMemory.WriteBufferBudgetBytes + RocksDbMemory.DataWriteBufferBytes));
        Assert.InRange(usage.BlockCacheBytes, 0, (long)RocksDbMemory.BlockCacheBytes);
    }

    [Fact]
    public void A_disposed_store_reports_nothing()
    {
        using var dir = new TempDir();
        RocksDbStorage storage = RocksDbStorage.Open(dir.Path, new CollectingCompletionSink());
        storage.Dispose();
        Assert.Equal(default, storage.MemoryUsage());
    }
}

using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// Process and .NET runtime figures. prometheus-net's <see cref="DotNetStats"/> gives the standard
/// <c>process_*</c> family (CPU seconds, resident and virtual memory, open handles, threads, start
/// time) and GC collections per generation; this adds what it lacks and an operator of a .NET
/// server looks for: GC pause time and heap size, allocation rate, lock contention and the thread
/// pool. They keep the runtime's <c>dotnet_</c> prefix, as prometheus-net's own do, so dashboards
/// made for .NET processes find them.
/// </summary>
public sealed class RuntimeMetrics
{
    private readonly Counter _gcPause;
    private readonly Gauge _heapSize;
    private readonly Counter _allocated;
    private readonly Counter _lockContentions;
    private readonly Gauge _poolThreads;
    private readonly Gauge _poolQueued;
    private readonly Counter _poolCompleted;

    public RuntimeMetrics(IMetricFactory factory, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(factory);
        DotNetStats.Register(registry);
        _gcPause = factory.CreateCounter("dotnet_gc_pause_seconds_total", "Time the runtime has paused threads for garbage collection.");
        _heapSize = factory.CreateGauge("dotnet_gc_heap_size_bytes", "Managed heap size after the last garbage collection.");
        _allocated = factory.CreateCounter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        _lockContentions = factory.CreateCounter("dotnet_monitor_lock_contentions_total", "Times a thread waited for a contended Monitor lock.");
        _poolThreads = factory.CreateGauge("dotnet_threadpool_threads", "Thread-pool threads that exist now.");
        _poolQueued = factory.CreateGauge("dotnet_threadpool_queued_items", "Work items queued to the thread pool and not started.");
        _poolCompleted = factory.CreateCounter("dotnet_threadpool_completed_items_total", "Work items the thread pool has completed.");
    }

    public void Collect()
    {
        _gcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        _heapSize.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
        _allocated.IncTo(GC.GetTotalAllocatedBytes());
        _lockContentions.IncTo(Monitor.LockContentionCount);
        _poolThreads.Set(ThreadPool.ThreadCount);
        _poolQueued.Set(ThreadPool.PendingWorkItemCount);
        _poolCompleted.IncTo(ThreadPool.CompletedWorkItemCount);
    }
}

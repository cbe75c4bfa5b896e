using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>The node's event loop: time spent on each event or timer (observed on the loop thread), queue depth and totals at scrape.</summary>
public sealed class EventLoopMetrics
{
    /// <summary>1 µs doubling to about 65 ms: most events take microseconds; a long one starves every other request.</summary>
    private static readonly double[] EventBucketsSeconds = Histogram.ExponentialBuckets(0.000001, 2, 17);

    /// <summary>10 µs doubling to about 2.6 s: the time from a producer's post to the loop taking the event.</summary>
    private static readonly double[] WaitBucketsSeconds = Histogram.ExponentialBuckets(0.00001, 2, 19);

    private readonly Histogram _eventDuration;
    private readonly Histogram _queueWait;

    public EventLoopMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _eventDuration = factory.CreateHistogram("meteora_event_loop_event_duration_seconds",
            "Time the engine spent on one event (client request, peer message, storage completion) or timer.",
            new HistogramConfiguration { Buckets = EventBucketsSeconds });
        _queueWait = factory.CreateHistogram("meteora_event_loop_queue_wait_seconds",
            "Time an event waited between being posted and the loop starting it (queueing plus the loop's wake-up).",
            new HistogramConfiguration { Buckets = WaitBucketsSeconds });
        QueueDepth = factory.CreateGauge("meteora_event_loop_queued_events", "Events waiting in the loop's bounded channel.");
        QueueCapacity = factory.CreateGauge("meteora_event_loop_queue_capacity_events", "Capacity of the loop's channel; producers wait when it is full.");
        Events = factory.CreateCounter("meteora_event_loop_events_total", "Events the loop has run (timers not included).");
    }

    internal Gauge QueueDepth { get; }
    internal Gauge QueueCapacity { get; }
    internal Counter Events { get; }

    public void ObserveEvent(TimeSpan elapsed) => _eventDuration.Observe(elapsed.TotalSeconds);

    public void ObserveQueueWait(TimeSpan waited) => _queueWait.Observe(waited.TotalSeconds);
}

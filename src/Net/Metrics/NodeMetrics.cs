using Meteora.Net.Runtime;
using Meteora.Net.Storage;
using Meteora.Net.Transport;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// Every Prometheus metric of one node, in a registry of its own (several nodes may share a process
/// in tests, and each must report only itself). Figures the engine, transport and storage already
/// count are copied at scrape time by a before-collect callback; what needs a distribution (latency,
/// writes per sync, time per event) is observed where it happens, through the groups below.
/// Served as <c>GET /metrics</c> in the Prometheus text format.
/// </summary>
public sealed class NodeMetrics
{
    private readonly EventLoop _loop;
    private readonly RocksDbStorage _storage;

    public NodeMetrics(EventLoop loop, RocksDbStorage storage, PeerTransport transport, Engine.Node.NodeCounters counters)
    {
        _loop = loop ?? throw new ArgumentNullException(nameof(loop));
        _storage = storage ?? throw new ArgumentNullException(nameof(storage));
        Registry = Prometheus.Metrics.NewCustomRegistry();
        IMetricFactory factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // No traces are exported, so an exemplar would only cost a trace-context lookup per observation.
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        Client = new ClientMetrics(factory);
        Storage = new StorageMetrics(factory);
        Loop = new EventLoopMetrics(factory);
        Engine = new EngineMetrics(factory, counters);
        Peers = new PeerMetrics(factory, transport);
        Membership = new MembershipMetrics(factory, counters);
        Runtime = new RuntimeMetrics(factory, Registry);
        Registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }
    public ClientMetrics Client { get; }
    public StorageMetrics Storage { get; }
    public EventLoopMetrics Loop { get; }
    public EngineMetrics Engine { get; }
    public PeerMetrics Peers { get; }
    public MembershipMetrics Membership { get; }

    /// <summary>Membership figures come from the runtime, which is built after its metrics.</summary>
    public void AttachMembership(Hosting.NodeRuntime runtime) => Membership.Attach(runtime);
    public RuntimeMetrics Runtime { get; }

    private void Collect()
    {
        Loop.QueueDepth.Set(_loop.QueuedEvents);
        Loop.QueueCapacity.Set(EventLoop.MaxQueuedEvents);
        Loop.Events.IncTo(_loop.EventsRun);
        Storage.Writes.IncTo(_storage.WriteCount);
        Storage.WriteFailures.IncTo(_storage.WriteFailureCount);
        Storage.Syncs.IncTo(_storage.SyncCount);
        Storage.Completed.IncTo(_storage.CompletedCount);
        Storage.SetMemory(_storage.MemoryUsage());
        Engine.Collect();
        Peers.Collect();
        Membership.Collect();
        Runtime.Collect();
    }
}

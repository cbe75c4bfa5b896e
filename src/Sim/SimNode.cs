using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;

namespace Meteora.Sim;

/// <summary>
/// Hosts one engine node inside the simulator: its clock is virtual time, its timers and disk
/// completions are queue events, and every message it sends is encoded with the real codec and
/// delivered as bytes after a simulated latency.
/// </summary>
internal sealed class SimNode : IClock, IScheduler, ITransport, IClientResponder
{
    private readonly SimCluster _cluster;
    private readonly NodeOptions _options;
    private readonly ReplicaPlacement _placement;
    private long _lastDiskCompleteMicros;

    public SimNode(SimCluster cluster, NodeOptions options, ReplicaPlacement placement)
    {
        _cluster = cluster;
        _options = options;
        _placement = placement;
        Id = options.NodeId;
        Storage = new InMemoryStorage();
        Engine = CreateEngine();
    }

    public int Id { get; }
    public InMemoryStorage Storage { get; }
    public MeteoraNode Engine { get; private set; }

    public long NowMicros => _cluster.NowMicros;

    public void StartTimer(long timerId, long delayMs) =>
        _cluster.Schedule(_cluster.NowMicros + delayMs * 1000, new SimEvent { Kind = SimEventKind.Timer, Node = Id, Id = timerId });

    public void Send(int toNode, Message message)
    {
        byte[] frame = MessageCodec.Encode(message);
        long latency = _cluster.NetworkLatencyMicros();
        _cluster.Schedule(_cluster.NowMicros + latency, new SimEvent { Kind = SimEventKind.Deliver, Node = toNode, From = Id, Frame = frame });
    }

    public void Respond(ClientResult result) => _cluster.Workload.OnResult(Id, result);

    /// <summary>Called after the engine queued a storage operation: schedules its completion, in order.</summary>
    public void ScheduleDiskCompletion()
    {
        long at = Math.Max(_cluster.NowMicros + _cluster.DiskLatencyMicros(), _lastDiskCompleteMicros);
        _lastDiskCompleteMicros = at;
        _cluster.Schedule(at, new SimEvent { Kind = SimEventKind.DiskComplete, Node = Id });
    }

    public void CompleteDisk()
    {
        long token = Storage.CompleteOldest(durable: true);
        Engine.OnStorageCompleted(token, durable: true);
    }

    private MeteoraNode CreateEngine() =>
        new(_options, _placement, this, this, this, new CountingStorage(Storage, this), _cluster.NodeRandom(Id), this);

    /// <summary>Wraps the in-memory store so every queued write or sync gets a completion event.</summary>
    private sealed class CountingStorage(InMemoryStorage inner, SimNode host) : IStorage
    {
        public bool TryGet(int partition, string key, out Meteora.Engine.Versioning.StoredValue value) =>
            inner.TryGet(partition, key, out value);

        public void Write(int partition, string key, Meteora.Engine.Versioning.StoredValue value, long completionToken)
        {
            inner.Write(partition, key, value, completionToken);
            host.ScheduleDiskCompletion();
        }

        public void Sync(long completionToken)
        {
            inner.Sync(completionToken);
            host.ScheduleDiskCompletion();
        }
    }
}

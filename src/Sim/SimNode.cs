using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>
/// Hosts one engine node inside the simulator: its clock is skewable virtual time, its timers and
/// disk completions are queue events tagged with the node's incarnation (a crash voids them), and
/// every message it sends is encoded with the real codec, then delivered, lost, duplicated or
/// delayed as the nemesis decides.
/// </summary>
internal sealed class SimNode : IScheduler, ITransport, IClientResponder, ILocalMessageTap
{
    private readonly SimCluster _cluster;
    private readonly NodeOptions _options;
    private readonly ReplicaPlacement _placement;
    private long _lastDiskCompleteMicros;

    /// <param name="spare">A joiner slot: not started until a membership fault joins it.</param>
    public SimNode(SimCluster cluster, NodeOptions options, ReplicaPlacement placement, bool spare = false)
    {
        _cluster = cluster;
        _options = options;
        _placement = placement;
        Id = options.NodeId;
        Storage = new InMemoryStorage();
        Clock = new SimClock(cluster);
        if (spare)
        {
            Engine = null!; // never read while not started: every caller checks Up first
            Up = false;
            NotStarted = true;
        }
        else
        {
            Engine = CreateEngine();
        }
    }

    public int Id { get; }
    public InMemoryStorage Storage { get; }
    public SimClock Clock { get; }
    public MeteoraNode Engine { get; private set; }
    public bool Up { get; private set; } = true;
    public int Incarnation { get; private set; }

    private readonly Dictionary<int, long> _droppedAtMicros = new();

    /// <summary>When this node last dropped the partition after handing it off (0: never).</summary>
    public long DroppedAtMicros(int partition) => _droppedAtMicros.GetValueOrDefault(partition);

    /// <summary>A joiner slot that no membership fault has started yet.</summary>
    public bool NotStarted { get; private set; }

    /// <summary>Gone for good: removed after a permanent crash, or exited after leaving the ring.</summary>
    public bool Retired { get; private set; }

    /// <summary>The member a joiner asks to let it in (null: a node of the initial ring).</summary>
    public int? JoinSeed { get; private set; }

    /// <summary>Starts a joiner slot with an empty disk, joining through <paramref name="seed"/>.</summary>
    public void StartJoin(int seed)
    {
        if (!NotStarted) throw new InvalidOperationException($"node{Id} was already started");
        NotStarted = false;
        JoinSeed = seed;
        Incarnation++;
        Up = true;
        Engine = CreateEngine();
        if (_cluster.Tracing) _cluster.Trace($"node{Id} starts and joins through node{seed}");
    }

    /// <summary>The node stops for good (crashed first if it is up); it never restarts.</summary>
    public void Retire()
    {
        if (Retired) return;
        if (Up) Crash();
        Retired = true;
        if (_cluster.Tracing) _cluster.Trace($"node{Id} retired");
    }

    public void StartTimer(TimerId timer, long delayMicros) =>
        _cluster.Enqueue(_cluster.NowMicros + delayMicros,
            new SimEvent { Kind = SimEventKind.Timer, Node = Id, Id = timer.Id, Owner = timer.Owner, Incarnation = Incarnation });

    public void Send(int toNode, Message message)
    {
        _cluster.AckOracle.OnSend(Id, toNode, message);
        _cluster.HintOracle.OnSend(Id, toNode, message);
        (byte[] frame, int length) = _cluster.Frames.Encode(message);
        _cluster.Network.Send(Id, toNode, frame, length);
    }

    /// <summary>Messages to self skip the network but not the oracles (a local ack must be durable too).</summary>
    public void OnLocalMessage(int node, Message message)
    {
        _cluster.AckOracle.OnSend(Id, Id, message);
        _cluster.HintOracle.OnSend(Id, Id, message);
    }

    /// <summary>The version of the key that would survive a crash right now (zero if none).</summary>
    public WriteVersion DurableVersion(string key) =>
        Storage.TryGetDurable(key, out StoredValue value) ? value.Version : WriteVersion.Zero;

    public void Respond(ClientResult result) => _cluster.Workload.OnResult(Id, result);

    /// <summary>Memory and every un-synced write are lost; pending timers and disk completions are voided.</summary>
    public void Crash()
    {
        if (!Up) throw new InvalidOperationException($"node{Id} is already down");
        Up = false;
        Incarnation++;
        Storage.Crash();
        _lastDiskCompleteMicros = 0;
        _cluster.Workload.OnCoordinatorCrashed(Id);
    }

    /// <summary>A fresh engine over what the disk kept.</summary>
    public void Restart()
    {
        if (Up) throw new InvalidOperationException($"node{Id} is already up");
        if (Retired || NotStarted) throw new InvalidOperationException($"node{Id} is {(Retired ? "retired" : "not started")}; it cannot restart");
        Incarnation++;
        Up = true;
        Engine = CreateEngine();
        if (_cluster.Tracing) _cluster.Trace($"node{Id} restarted (incarnation {Incarnation}) with {Storage.VisibleCount} keys on disk");
    }

    /// <summary>Called after the engine queued a storage operation: schedules its completion, in order.</summary>
    private void ScheduleDiskCompletion()
    {
        long latency = _cluster.DiskLatencyMicros();
        DiskFault? fault = _cluster.Nemesis.ActiveDiskFault(Id);
        if (fault is not null && _cluster.DiskRandom.Chance(fault.SlowProbability))
        {
            latency *= _cluster.DiskRandom.NextInt(20, 200);
        }
        long at = Math.Max(_cluster.NowMicros + latency, _lastDiskCompleteMicros);
        _lastDiskCompleteMicros = at;
        _cluster.Enqueue(at, new SimEvent { Kind = SimEventKind.DiskComplete, Node = Id, Incarnation = Incarnation });
    }

    public void CompleteDisk()
    {
        DiskFault? fault = _cluster.Nemesis.ActiveDiskFault(Id);
        bool durable = fault is null || !_cluster.DiskRandom.Chance(fault.FailProbability);
        long token = Storage.CompleteOldest(durable);
        if (_cluster.Tracing) _cluster.Trace($"node{Id} disk op {token} {(durable ? "durable" : "FAILED")}");
        Engine.OnStorageCompleted(token, durable);
    }

    private MeteoraNode CreateEngine() => JoinSeed is { } seed
        ? MeteoraNode.Join(_options, _placement.PartitionCount, seed, Clock, this, this, new QueuedStorage(Storage, this), _cluster.NodeRandom(Id, Incarnation), this, _cluster.Buggify, localTap: this)
        : new(_options, _placement, Clock, this, this, new QueuedStorage(Storage, this), _cluster.NodeRandom(Id, Incarnation), this, _cluster.Buggify, localTap: this);

    /// <summary>Wraps the in-memory store so every queued write or sync gets a completion event.</summary>
    private sealed class QueuedStorage(InMemoryStorage inner, SimNode host) : IStorage
    {
        public bool TryGet(int partition, string key, out StoredValue value) => inner.TryGet(partition, key, out value);

        public void Write(int partition, string key, StoredValue value, long completionToken)
        {
            if (host._cluster.Tracing) host._cluster.Trace($"node{host.Id} writes {key} v={value.Version}{(value.IsTombstone ? " tombstone" : "")} (disk op {completionToken})");
            inner.Write(partition, key, value, completionToken);
            host.ScheduleDiskCompletion();
        }

        public void Sync(long completionToken)
        {
            inner.Sync(completionToken);
            host.ScheduleDiskCompletion();
        }

        public int Scan(int partition, TokenRange range, string? afterKey, List<KeyValuePair<string, StoredValue>> output, int maxCount) =>
            inner.Scan(partition, range, afterKey, output, maxCount);

        public void DropPartition(int partition, long completionToken)
        {
            // A tombstone past its grace period leaves with the partition without being handed off (as a
            // purge would remove it): for the checkers it is purged, so "not found" is a correct answer.
            long cutoffMicros = host._cluster.Knobs.Repair.PurgeCutoffMicros(host.Clock.NowMicros);
            var entries = new List<KeyValuePair<string, StoredValue>>();
            inner.Scan(partition, TokenRange.All, null, entries, int.MaxValue);
            foreach (var (key, value) in entries)
            {
                if (value.IsTombstone && value.Version.TimestampMicros < cutoffMicros) host._cluster.Purges.Record(key, value.Version, host._cluster.NowMicros);
            }
            if (host._cluster.Tracing) host._cluster.Trace($"node{host.Id} drops partition {partition} (disk op {completionToken})");
            host._droppedAtMicros[partition] = host._cluster.NowMicros;
            inner.DropPartition(partition, completionToken);
            host.ScheduleDiskCompletion();
        }

        public bool SupportsHints => inner.SupportsHints;

        public void WriteHint(Meteora.Engine.Handoff.Hint hint, long completionToken)
        {
            if (host._cluster.Tracing) host._cluster.Trace($"node{host.Id} stores hint {hint.Target}/{hint.Sequence} {hint.Key} v={hint.Version} (disk op {completionToken})");
            inner.WriteHint(hint, completionToken);
            host._cluster.HintOracle.OnHintWritten(host.Id, hint, inner.VisibleHintBytes(hint.Target), inner.VisibleHintBytes(null), host._options.Hints);
            host.ScheduleDiskCompletion();
        }

        public void DeleteHint(int target, long sequence, long completionToken)
        {
            var hint = inner.VisibleHint(target, sequence) ?? throw new InvalidOperationException($"node{host.Id} deletes hint {target}/{sequence}, which it does not hold");
            if (host._cluster.Tracing) host._cluster.Trace($"node{host.Id} deletes hint {target}/{sequence} {hint.Key} v={hint.Version} (disk op {completionToken})");
            host._cluster.HintOracle.OnHintDeleted(host.Id, hint, host.Clock.NowMicros, host._options.Hints);
            inner.DeleteHint(target, sequence, completionToken);
            host.ScheduleDiskCompletion();
        }

        public void ReadHints(List<Meteora.Engine.Handoff.Hint> output) => inner.ReadHints(output);

        public byte[]? ReadRingState() => inner.ReadRingState();

        public void WriteRingState(byte[] encoded) => inner.WriteRingState(encoded);

        public void Purge(int partition, string key, WriteVersion tombstone, long completionToken)
        {
            host._cluster.Purges.Record(key, tombstone, host._cluster.NowMicros);
            if (host._cluster.Tracing) host._cluster.Trace($"node{host.Id} purges tombstone {key} v={tombstone} (disk op {completionToken})");
            inner.Purge(partition, key, tombstone, completionToken);
            host.ScheduleDiskCompletion();
        }
    }
}

using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;

namespace Meteora.Tests.Sim;

/// <summary>
/// A hand-driven cluster for coordinator unit tests: the test decides which message is delivered,
/// which disk write completes and which timer fires, one step at a time.
/// </summary>
internal sealed class ManualCluster
{
    public ManualCluster(int nodes, int replicationFactor = 3, int partitions = 64, RepairOptions? repair = null,
        Func<int, Meteora.Engine.Membership.RingState?>? rings = null, Meteora.Engine.Handoff.HintOptions? hints = null)
    {
        Hints = hints ?? new Meteora.Engine.Handoff.HintOptions();
        Placement = new ReplicaPlacement(RingLayout.Create(partitions, Enumerable.Range(0, nodes)), replicationFactor);
        Repair = repair ?? new RepairOptions { AntiEntropyIntervalMs = 0 };
        Hosts = Enumerable.Range(0, nodes).Select(id => new Host(this, id, rings?.Invoke(id))).ToList();
    }

    /// <summary>Starts a node that joins through <paramref name="seed"/>; it gets the next index in <see cref="Hosts"/> (its id may differ).</summary>
    public Host AddJoiner(int id, int seed, int? partitions = null)
    {
        var host = new Host(this, id, ring: null, joinSeed: seed, partitions: partitions);
        Hosts.Add(host);
        return host;
    }

    /// <summary>The host of node <paramref name="id"/>.</summary>
    public Host HostOf(int id) => Hosts.Single(h => h.Node.NodeId == id);

    public RepairOptions Repair { get; }

    public Meteora.Engine.Handoff.HintOptions Hints { get; }

    /// <summary>Fires timers until every node's Merkle trees are built (the rebuild runs in timer-driven slices).</summary>
    public void BuildTrees()
    {
        for (int round = 0; round < 10_000; round++)
        {
            bool allReady = true;
            foreach (Host host in Hosts)
            {
                for (int p = 0; p < Placement.PartitionCount; p++)
                {
                    if (Placement.IsReplica(p, host.Node.NodeId) && host.Node.MerkleRoot(p) is null) allReady = false;
                }
            }
            if (allReady) return;
            foreach (Host host in Hosts) host.FireTimers();
        }
        throw new InvalidOperationException("Merkle trees were not built in 10000 rounds");
    }

    public ReplicaPlacement Placement { get; }
    public List<Host> Hosts { get; }
    public long NowMicros { get; set; } = 1_000_000;

    /// <summary>Added to <see cref="NowMicros"/> after every clock read by a node: time passing inside one event, as on a real machine.</summary>
    public long AdvancePerClockReadMicros { get; set; }

    private long ReadClock()
    {
        long now = NowMicros;
        NowMicros += AdvancePerClockReadMicros;
        return now;
    }
    public List<(int From, int To, Message Message)> InFlight { get; } = [];

    public MeteoraNode this[int id] => HostOf(id).Node;

    /// <summary>Delivers every in-flight message matching the filter (round-tripped through the codec); returns how many.</summary>
    public int Deliver(Func<(int From, int To, Message Message), bool>? filter = null)
    {
        var batch = InFlight.Where(m => filter?.Invoke(m) ?? true).ToList();
        foreach (var m in batch)
        {
            InFlight.Remove(m);
            HostOf(m.To).Node.OnMessage(m.From, MessageCodec.Decode(MessageCodec.Encode(m.Message)));
        }
        return batch.Count;
    }

    public void Drop(Func<(int From, int To, Message Message), bool> filter) => InFlight.RemoveAll(m => filter(m));

    /// <summary>Makes every pending disk write on every node durable.</summary>
    public void FlushDisks()
    {
        foreach (Host host in Hosts) host.FlushDisk();
    }

    /// <summary>Delivers messages and completes disk writes until nothing is left.</summary>
    public void Settle()
    {
        for (int round = 0; round < 100; round++)
        {
            FlushDisks();
            if (Deliver() == 0 && Hosts.All(h => h.Storage.PendingCount == 0)) return;
        }
        throw new InvalidOperationException("cluster did not settle in 100 rounds");
    }

    public (int[] Replicas, string Key) KeyWithReplicas(Func<int[], bool> predicate)
    {
        for (int i = 0; i < 10_000; i++)
        {
            string key = "key" + i;
            int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(Placement.PartitionCount);
            int[] replicas = Placement.PreferenceList(partition).ToArray();
            if (predicate(replicas)) return (replicas, key);
        }
        throw new InvalidOperationException("no key matches");
    }

    internal sealed class Host : IClock, IScheduler, ITransport, IClientResponder, IRandom
    {
        private readonly ManualCluster _cluster;
        private ulong _random;

        public Host(ManualCluster cluster, int id, Meteora.Engine.Membership.RingState? ring = null, int? joinSeed = null, int? partitions = null, string? peerAddress = null)
        {
            _cluster = cluster;
            _random = (ulong)id * 1000;
            Storage = new InMemoryStorage();
            _options = new NodeOptions { NodeId = id, ReplicationFactor = cluster.Placement.ReplicationFactor, RequestTimeoutMs = 500, Repair = cluster.Repair, PeerAddress = peerAddress, Hints = cluster.Hints };
            Node = joinSeed is { } seed
                ? MeteoraNode.Join(_options, partitions ?? cluster.Placement.PartitionCount, seed, this, this, this, Storage, this, this)
                : new MeteoraNode(_options, cluster.Placement, this, this, this, Storage, this, this, ring: ring);
        }

        private readonly NodeOptions _options;

        /// <summary>A crash (every write not yet durable is lost, timers and messages to it vanish) and a restart from the disk.</summary>
        public void CrashAndRestart()
        {
            Storage.Crash();
            Timers.Clear();
            _cluster.InFlight.RemoveAll(m => m.To == Node.NodeId || m.From == Node.NodeId);
            Node = new MeteoraNode(_options, _cluster.Placement, this, this, this, Storage, this, this);
        }

        public MeteoraNode Node { get; private set; }
        public InMemoryStorage Storage { get; }
        public List<ClientResult> Results { get; } = [];
        public List<TimerId> Timers { get; } = [];

        public long NowMicros => _cluster.ReadClock();
        public void StartTimer(TimerId timer, long delayMicros) => Timers.Add(timer);
        public void Send(int toNode, Message message) => _cluster.InFlight.Add((Node.NodeId, toNode, message));
        public void Respond(ClientResult result) => Results.Add(result);
        public ulong NextUInt64() => ++_random;
        public int NextInt(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

        public void FlushDisk()
        {
            while (Storage.PendingCount > 0) Node.OnStorageCompleted(Storage.CompleteOldest(true), true);
        }

        public void FireTimers()
        {
            var timers = Timers.ToList();
            Timers.Clear();
            foreach (TimerId id in timers) Node.OnTimer(id);
        }
    }
}

using System.Text;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;

namespace Meteora.Bench.Repair;

/// <summary>
/// Two engine nodes replicating every partition (N=2), wired through an in-memory network that
/// round-trips every message through the real codec and counts its bytes. Delivery runs in waves
/// (each wave delivers what the previous one sent), so waves/2 is the number of sequential round
/// trips a real network would need.
/// </summary>
internal sealed class TwoReplicas
{
    public const int Partitions = 64;

    private readonly Host[] _hosts;
    private List<(int From, int To, byte[] Frame)> _inFlight = [];

    public TwoReplicas(int merkleDepth)
    {
        var placement = new ReplicaPlacement(RingLayout.Create(Partitions, [0, 1]), 2);
        var repair = new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = merkleDepth };
        _hosts = [new Host(this, 0, placement, repair), new Host(this, 1, placement, repair)];
        foreach (Host host in _hosts) host.BuildTrees();
    }

    public MeteoraNode this[int node] => _hosts[node].Node;
    public long BytesSent { get; private set; }
    public long MessagesSent { get; private set; }
    public int Waves { get; private set; }

    public void ResetCounters()
    {
        BytesSent = 0;
        MessagesSent = 0;
        Waves = 0;
    }

    /// <summary>Stores a version on one replica, as a repair write would (it updates that replica's Merkle tree).</summary>
    public void Put(int node, string key, long timestampMicros, string value)
    {
        _hosts[node].Node.OnMessage(1 - node, new ReadRepair(key, new Meteora.Engine.Versioning.WriteVersion(timestampMicros, 9), Encoding.UTF8.GetBytes(value)));
        if (_hosts[node].Storage.PendingCount > 10_000) _hosts[node].FlushDisk();
    }

    public void FlushDisks()
    {
        foreach (Host host in _hosts) host.FlushDisk();
    }

    /// <summary>Delivers messages wave by wave (completing disk writes between waves) until nothing is in flight.</summary>
    public void Settle()
    {
        while (true)
        {
            FlushDisks();
            if (_inFlight.Count == 0) return;
            var wave = _inFlight;
            _inFlight = [];
            Waves++;
            foreach (var (from, to, frame) in wave) _hosts[to].Node.OnMessage(from, MessageCodec.Decode(frame));
        }
    }

    private void Send(int from, int to, Message message)
    {
        byte[] frame = MessageCodec.Encode(message);
        BytesSent += frame.Length + 4; // plus the 4-byte length prefix real peers put on every frame
        MessagesSent++;
        _inFlight.Add((from, to, frame));
    }

    private sealed class Host : IClock, IScheduler, ITransport, IClientResponder, IRandom
    {
        private readonly TwoReplicas _pair;
        private readonly List<TimerId> _timers = [];
        private ulong _random;

        public Host(TwoReplicas pair, int id, ReplicaPlacement placement, RepairOptions repair)
        {
            _pair = pair;
            _random = (ulong)id + 1;
            Storage = new InMemoryStorage();
            Node = new MeteoraNode(new NodeOptions { NodeId = id, ReplicationFactor = 2, Repair = repair }, placement, this, this, this, Storage, this, this);
        }

        public MeteoraNode Node { get; }
        public InMemoryStorage Storage { get; }
        public long NowMicros => 1_800_000_000_000_000;

        public void StartTimer(TimerId timer, long delayMicros)
        {
            if (delayMicros == 0) _timers.Add(timer); // only rebuild slices; repair timeouts never fire here
        }

        public void Send(int toNode, Message message) => _pair.Send(Node.NodeId, toNode, message);
        public void Respond(ClientResult result) { }
        public ulong NextUInt64() => _random = _random * 6364136223846793005UL + 1442695040888963407UL;
        public int NextInt(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

        public void FlushDisk()
        {
            while (Storage.PendingCount > 0) Node.OnStorageCompleted(Storage.CompleteOldest(true), true);
        }

        public void BuildTrees()
        {
            while (_timers.Count > 0)
            {
                TimerId id = _timers[^1];
                _timers.RemoveAt(_timers.Count - 1);
                Node.OnTimer(id);
            }
        }
    }
}

using Meteora.Engine.Merkle;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>
/// A node's anti-entropy: keeps its Merkle trees, answers peers' tree, leaf and pull requests, runs
/// repair jobs (on demand, and in the background every AntiEntropyIntervalMs), and purges tombstones
/// whose grace period is over. Every timer and request id comes from the node, so it all runs on the
/// node's event loop like everything else.
/// </summary>
internal sealed class AntiEntropy
{
    /// <summary>Period of the maintenance tick when background repair is off (tombstone purges still run).</summary>
    private const long IdleTickMs = 60_000;

    private readonly IRepairHost _host;
    private readonly RepairOptions _options;
    private readonly IRandom _random;
    private readonly Dictionary<long, RepairSession> _sessionsByRequest = new();
    private readonly Queue<RepairJob> _finished = new();
    private RepairJob? _running;
    private long _sliceTimerId;
    private long _tickTimerId;

    public AntiEntropy(IRepairHost host, RepairOptions options, IRandom random)
    {
        _host = host;
        _options = options;
        _random = random;
        Tombstones = new TombstoneLog();
        Trees = new ReplicaTrees(host.Placement, host.NodeId, options.MerkleDepth, Tombstones);
    }

    public ReplicaTrees Trees { get; }

    public TombstoneLog Tombstones { get; }

    public long TombstonesPurged { get; private set; }

    public void Start()
    {
        ScheduleSlice();
        _tickTimerId = _host.NewRequestId();
        _host.StartTimer(_tickTimerId, TickMs);
    }

    private long TickMs => _options.AntiEntropyIntervalMs > 0 ? _options.AntiEntropyIntervalMs : IdleTickMs;

    // ---------------------------------------------------------------- jobs

    /// <summary>Starts a job over every partition this node replicates and all its peers; refuses while one runs.</summary>
    public (bool Started, string RepairId) StartJob(bool background = false)
    {
        if (_running is not null) return (false, _running.Id);
        string id = "r" + _random.NextUInt64().ToString("x16");
        var job = new RepairJob(id, background, _host.NowMicros, Trees, StartSession, OnJobFinished)
        {
            Now = () => _host.NowMicros,
            StartSequence = Tombstones.NextSequence(),
            OnPartitionRepaired = Tombstones.OnPartitionRepaired,
        };
        _running = job;
        foreach (int partition in Trees.Partitions)
        {
            var sessions = new List<RepairSession>();
            foreach (int peer in _host.Placement.PreferenceList(partition))
            {
                // Every node repairs with every peer, so each one learns for itself when all replicas of
                // a partition hold its tombstones (which tombstone GC needs). Twice the root exchanges,
                // which cost 2 small messages per partition and peer when nothing differs.
                if (peer == _host.NodeId) continue;
                sessions.Add(new RepairSession(_host, _options, job, partition, peer));
            }
            job.AddPartition(partition, sessions);
        }
        job.Pump(_options.MaxConcurrentSessions);
        return (true, id);
    }

    public RepairStatus? Status(string repairId)
    {
        if (_running?.Id == repairId) return _running.Status();
        foreach (RepairJob job in _finished)
        {
            if (job.Id == repairId) return job.Status();
        }
        return null;
    }

    public RepairStatus? RunningStatus => _running?.Status();

    private void StartSession(RepairSession session)
    {
        session.Start();
        Track(session);
    }

    private void OnJobFinished(RepairJob job)
    {
        if (_running == job) _running = null;
        _finished.Enqueue(job);
        while (_finished.Count > RepairOptions.MaxRememberedJobs) _finished.Dequeue();
    }

    private void Track(RepairSession session)
    {
        foreach (long id in session.WaitingOn()) _sessionsByRequest[id] = session;
        if (session.Finished) session.Job.Pump(_options.MaxConcurrentSessions);
    }

    // ---------------------------------------------------------------- timers

    /// <summary>Handles the timer if it is anti-entropy's; returns false otherwise.</summary>
    public bool OnTimer(long timerId)
    {
        if (timerId == _sliceTimerId)
        {
            _sliceTimerId = 0;
            if (Trees.RebuildSlice(_host.Storage, _options.SliceEntries)) ScheduleSlice();
            return true;
        }
        if (timerId == _tickTimerId)
        {
            Tick();
            _tickTimerId = _host.NewRequestId();
            _host.StartTimer(_tickTimerId, TickMs);
            return true;
        }
        if (_sessionsByRequest.Remove(timerId, out RepairSession? session))
        {
            session.OnTimeout(timerId);
            Track(session);
            return true;
        }
        return false;
    }

    private void ScheduleSlice()
    {
        _sliceTimerId = _host.NewRequestId();
        _host.StartTimer(_sliceTimerId, 0);
    }

    private void Tick()
    {
        PurgeSlice();
        if (_options.AntiEntropyIntervalMs > 0 && _running is null && Trees.AllReady) StartJob(background: true);
    }

    /// <summary>Purges tombstones that are past their grace period and known to be on every replica (see <see cref="TombstoneLog"/>).</summary>
    private void PurgeSlice()
    {
        long cutoffMicros = _host.NowMicros - _options.TombstoneGraceMs * 1000;
        foreach (var (partition, key, version) in Tombstones.TakeEligible(cutoffMicros, _options.SliceEntries))
        {
            if (_host.Storage.TryGet(partition, key, out StoredValue held) && held.IsTombstone && held.Version == version)
            {
                _host.PurgeTombstone(partition, key, version);
                TombstonesPurged++;
            }
        }
    }

    // ---------------------------------------------------------------- messages

    /// <summary>Handles a repair message; returns false if it is not one.</summary>
    public bool OnMessage(int fromNode, Message message)
    {
        switch (message)
        {
            case MerkleHashesRequest m:
                _host.Send(fromNode, AnswerHashes(m));
                return true;
            case LeafEntriesRequest m:
                _host.Send(fromNode, AnswerEntries(m));
                return true;
            case RepairPullRequest m:
                _host.Send(fromNode, AnswerPull(m));
                return true;
            case MerkleHashesReply m:
                Route(m.RequestId, fromNode, s => s.OnHashes(m));
                return true;
            case LeafEntriesReply m:
                Route(m.RequestId, fromNode, s => s.OnEntries(m));
                return true;
            case RepairPullReply m:
                Route(m.RequestId, fromNode, s => s.OnPullReply(m));
                return true;
            default:
                return false;
        }
    }

    /// <summary>A write ack for one of our repair pushes; returns false if the id is not ours.</summary>
    public bool OnWriteAck(int fromNode, long requestId, bool ok)
    {
        if (!_sessionsByRequest.TryGetValue(requestId, out RepairSession? session) || session.Peer != fromNode) return false;
        session.OnPushAck(requestId, ok);
        Track(session);
        return true;
    }

    private void Route(long requestId, int fromNode, Action<RepairSession> handle)
    {
        if (!_sessionsByRequest.TryGetValue(requestId, out RepairSession? session) || session.Peer != fromNode) return;
        handle(session);
        Track(session);
    }

    private MerkleHashesReply AnswerHashes(MerkleHashesRequest request)
    {
        MerkleTree? tree = Trees.Ready(request.Partition);
        if (tree is null || tree.Depth != request.Depth) return new MerkleHashesReply(request.RequestId, false, []);
        var hashes = new UInt128[request.Nodes.Length];
        for (int i = 0; i < hashes.Length; i++)
        {
            int node = request.Nodes[i];
            if (node < 1 || node >= 2 * tree.LeafCount) return new MerkleHashesReply(request.RequestId, false, []);
            hashes[i] = tree.NodeHash(node);
        }
        return new MerkleHashesReply(request.RequestId, true, hashes);
    }

    private LeafEntriesReply AnswerEntries(LeafEntriesRequest request)
    {
        MerkleTree? tree = Trees.Ready(request.Partition);
        if (tree is null || tree.Depth != request.Depth || request.Leaves.Length == 0)
        {
            return new LeafEntriesReply(request.RequestId, false, 0, []);
        }
        foreach (int leaf in request.Leaves)
        {
            if (leaf >= tree.LeafCount) return new LeafEntriesReply(request.RequestId, false, 0, []);
        }
        var byLeaf = LeafDiff.EntriesByLeaf(_host.Storage, request.Partition, tree, request.Leaves);
        var entries = new List<LeafEntry>();
        int covered = 0;
        long sizeBytes = 0;
        foreach (int leaf in request.Leaves)
        {
            long leafBytes = 0;
            foreach (LeafEntry e in byLeaf[leaf]) leafBytes += 2 + System.Text.Encoding.UTF8.GetByteCount(e.Key) + 12;
            if (covered > 0 && sizeBytes + leafBytes > _options.ReplyBudgetBytes) break;
            entries.AddRange(byLeaf[leaf]);
            sizeBytes += leafBytes;
            covered++;
        }
        return new LeafEntriesReply(request.RequestId, true, covered, [.. entries]);
    }

    private RepairPullReply AnswerPull(RepairPullRequest request)
    {
        var items = new List<RepairItem>();
        int covered = 0;
        long sizeBytes = 0;
        foreach (string key in request.Keys)
        {
            if (_host.Storage.TryGet(request.Partition, key, out StoredValue value))
            {
                long itemBytes = 2 + System.Text.Encoding.UTF8.GetByteCount(key) + 12 + 4 + (value.Value?.Length ?? 0);
                if (covered > 0 && sizeBytes + itemBytes > _options.ReplyBudgetBytes) break;
                items.Add(new RepairItem(key, value.Version, value.Value));
                sizeBytes += itemBytes;
            }
            covered++;
        }
        return new RepairPullReply(request.RequestId, covered, [.. items]);
    }
}

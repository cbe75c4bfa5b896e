using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Replica;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Repair;

/// <summary>
/// The anti-entropy room: runs repair jobs (on demand, and in the background every
/// AntiEntropyIntervalMs), routes peers' replies and acks to the session waiting on them, answers
/// peers' tree, leaf and pull requests, and purges tombstones whose grace period is over. It reads
/// and writes data only through the replica store.
/// </summary>
internal sealed class AntiEntropy : ISessionOwner
{
    /// <summary>Period of the maintenance tick when background repair is off (tombstone purges still run).</summary>
    private const long IdleTickMs = 60_000;

    private readonly RepairContext _ctx;
    private readonly RepairResponder _responder;
    private readonly IScheduler _scheduler;
    private readonly IRandom _random;
    private readonly NodeCounters _counters;
    private readonly Queue<RepairJob> _finished = new();
    private RepairJob? _running;
    private long _ticks;
    private long _purgeSlices;
    private bool _purgeScheduled;

    public AntiEntropy(NodeOptions options, Membership.RingView ring, ReplicaStore store, Outbox outbox,
        IScheduler scheduler, IClock clock, IRandom random, NodeCounters counters)
    {
        _scheduler = scheduler;
        _random = random;
        _counters = counters;
        _ctx = new RepairContext
        {
            NodeId = options.NodeId,
            Ring = ring,
            Options = options.Repair,
            Store = store,
            Outbox = outbox,
            Requests = new RepairRequests(scheduler, random),
            Clock = clock,
            SkipsFirstLeaf = (options.PlantedBugs & PlantedBug.MerkleSkipLeaf) != 0,
        };
        _responder = new RepairResponder(store, options.Repair);
    }

    public long TombstonesPurged { get; private set; }

    /// <summary>What sessions of ring changes (transfers, handoffs) share with repair jobs: the store, the outbox, request ids.</summary>
    public RepairContext Context => _ctx;

    /// <summary>Sessions other owners run over this room's request registry (the streaming room reports its count here).</summary>
    public Func<int> OtherSessions { get; set; } = () => 0;

    public RepairStatus? RunningStatus => _running?.Status();

    private RepairOptions Options => _ctx.Options;

    public void Start() => ScheduleTick();

    private void ScheduleTick()
    {
        long tickMs = Options.AntiEntropyIntervalMs > 0 ? Options.AntiEntropyIntervalMs : IdleTickMs;
        _scheduler.StartTimer(new TimerId(TimerOwner.MaintenanceTick, ++_ticks), TimeUnits.MsToMicros(tickMs));
    }

    /// <summary>Starts a job over every partition this node replicates and all its peers; refuses while one runs.</summary>
    public (bool Started, string RepairId) StartJob(bool background = false)
    {
        if (_running is not null) return (false, _running.Id);
        if (!_ctx.Ring.IsMember) return (false, "");
        string id = "r" + _random.NextUInt64().ToString("x16");
        var job = new RepairJob(id, background, _ctx.Clock.NowMicros, _ctx.Store.Tombstones.NextSequence());
        _running = job;
        _counters.RepairJobsStarted++;
        if (background) _counters.AntiEntropyRounds++;
        Ring.ReplicaPlacement current = _ctx.Ring.Current;
        foreach (int partition in _ctx.Store.Trees.Partitions)
        {
            if (!current.IsReplica(partition, _ctx.NodeId)) continue; // received in a change, or being handed off
            var sessions = new List<RepairSession>();
            bool skipped = false;
            foreach (int peer in current.PreferenceList(partition))
            {
                // Every node repairs with every peer, so each one learns for itself when all replicas of
                // a partition hold its tombstones (which tombstone GC needs). Twice the root exchanges,
                // which cost 2 small messages per partition and peer when nothing differs.
                if (peer != _ctx.NodeId) skipped |= !AddSession(sessions, partition, peer);
            }
            // A node a running change moves the partition to is a replica for tombstone GC too: a delete
            // may not be purged before it holds it, or its transfer would push the old value back.
            foreach (int pending in _ctx.Ring.PendingReplicas(partition))
            {
                if (pending != _ctx.NodeId) skipped |= !AddSession(sessions, partition, pending);
            }
            if (job.AddPartition(partition, sessions, incomplete: skipped)) _ctx.Store.Tombstones.OnPartitionRepaired(partition, job.StartSequence);
        }
        Pump();
        return (true, id);
    }

    /// <summary>
    /// Adds a session with <paramref name="peer"/> unless the failure detector says it is down: a dead
    /// peer would only cost MaxAttempts timeouts per partition (simulator seed 14 with membership faults:
    /// a removed node's sessions held every job for a minute, so no tombstone was ever purged). False when
    /// skipped: the partition then does not count as repaired with every peer (no tombstone GC from it).
    /// </summary>
    private bool AddSession(List<RepairSession> sessions, int partition, int peer)
    {
        if (PeerDown(peer)) return false;
        sessions.Add(new RepairSession(_ctx, partition, peer, this));
        return true;
    }

    private bool Stale(RepairSession session)
    {
        if (PeerDown(session.Peer) || !_ctx.Ring.IsMember) return true;
        Ring.ReplicaPlacement current = _ctx.Ring.Current;
        if (!current.IsReplica(session.Partition, _ctx.NodeId)) return true;
        return !current.IsReplica(session.Partition, session.Peer) && Array.IndexOf(_ctx.Ring.PendingReplicas(session.Partition), session.Peer) < 0;
    }

    /// <summary>The failure detector's verdict, given by the node (the room does not own the detector).</summary>
    public Func<int, bool> PeerDown { get; set; } = _ => false;

    public RepairStatus? Status(string repairId)
    {
        if (_running?.Id == repairId) return _running.Status();
        foreach (RepairJob job in _finished)
        {
            if (job.Id == repairId) return job.Status();
        }
        return null;
    }

    /// <summary>Starts queued sessions up to the limit, and finishes the job once it is drained.</summary>
    private void Pump()
    {
        RepairJob? job = _running;
        if (job is null) return;
        while (job.NextToStart(Options.MaxConcurrentSessions) is { } session)
        {
            // A peer that went down, or a pair the ring moved away since the job started (simulator seed 127
            // with --joiners 3: sessions of an old ring waited for trees the peers no longer had), fails its
            // session at once instead of after MaxAttempts timeouts; the partition is not repaired with every peer.
            if (Stale(session)) session.Abandon();
            else session.Start();
            if (session.Finished) Report(job, session);
        }
        if (!job.Drained) return;
        job.Finish(_ctx.Clock.NowMicros);
        if (job.SessionsFailed > 0) _counters.RepairJobsFailed++;
        else _counters.RepairJobsDone++;
        _running = null;
        _finished.Enqueue(job);
        while (_finished.Count > RepairOptions.MaxRememberedJobs) _finished.Dequeue();
    }

    private void Report(RepairJob job, RepairSession session)
    {
        _counters.KeysRepaired += session.KeysRepaired;
        _counters.RepairBytesSent += session.BytesSent;
        if (session.State == RepairState.Failed) _counters.RepairSessionsFailed++;
        if (job.OnSessionFinished(session) is int repaired) _ctx.Store.Tombstones.OnPartitionRepaired(repaired, job.StartSequence);
    }

    /// <summary>After a session handled an input: if it just finished, the job learns and the next session starts.</summary>
    private static void AfterStep(RepairSession session)
    {
        if (session.Finished) session.Owner.OnSessionFinished(session);
    }

    /// <summary>One of this room's job sessions finished: the job learns and the next session starts.</summary>
    public void OnSessionFinished(RepairSession session)
    {
        if (_running is null) return;
        Report(_running, session);
        Pump();
    }

    public void OnTickTimer()
    {
        if (!_purgeScheduled) PurgeSlice();
        if (Options.AntiEntropyIntervalMs > 0 && _running is null && _ctx.Store.Trees.AllReady) StartJob(background: true);
        ScheduleTick();
    }

    public void OnPurgeTimer()
    {
        _purgeScheduled = false;
        PurgeSlice();
    }

    /// <summary>
    /// One bounded slice of tombstone purges; while a backlog remains the next slice follows at once
    /// (as Merkle rebuild slices do), so purges never fall behind the tick (simulator seed 49: with
    /// one-entry slices, replicas purged hundreds of tombstones one per tick and did not converge).
    /// </summary>
    private void PurgeSlice()
    {
        TombstonesPurged += _ctx.Store.PurgeEligible(_ctx.PurgeCutoffMicros, out bool more);
        if (!more) return;
        _purgeScheduled = true;
        _scheduler.StartTimer(new TimerId(TimerOwner.TombstonePurge, ++_purgeSlices), 0);
    }

    public void OnRequestTimer(long requestId)
    {
        if (_ctx.Requests.Find(requestId) is not { } session) return;
        session.OnTimeout(requestId);
        AfterStep(session);
    }

    /// <summary>Handles a repair message.</summary>
    public void OnMessage(int fromNode, Message message)
    {
        switch (message)
        {
            case MerkleHashesRequest m:
                _ctx.Send(fromNode, _responder.AnswerHashes(m));
                break;
            case LeafEntriesRequest m:
                _ctx.Send(fromNode, _responder.AnswerEntries(m));
                break;
            case RepairPullRequest m:
                _ctx.Send(fromNode, _responder.AnswerPull(m));
                break;
            case MerkleHashesReply m when _ctx.Requests.Find(m.RequestId, fromNode) is { } s:
                s.OnHashes(m);
                AfterStep(s);
                break;
            case LeafEntriesReply m when _ctx.Requests.Find(m.RequestId, fromNode) is { } s:
                s.OnEntries(m);
                AfterStep(s);
                break;
            case RepairPullReply m when _ctx.Requests.Find(m.RequestId, fromNode) is { } s:
                s.OnPullReply(m);
                AfterStep(s);
                break;
            case RepairPushAck m when _ctx.Requests.Find(m.RequestId, fromNode) is { } s:
                s.OnPushAck(m);
                AfterStep(s);
                break;
        }
    }

    /// <summary>Runs after every event: the messages live in other methods, so this frame stays small (issue 11).</summary>
    public void CheckInvariants(bool deep)
    {
        _running?.CheckInvariants(Options.MaxConcurrentSessions);
        if (_running is null && _ctx.Requests.Count != 0 && OtherSessions() == 0) ThrowOrphanRequests(_ctx.Requests.Count);
        if (deep) _ctx.Requests.CheckInvariants();
        if (_finished.Count > RepairOptions.MaxRememberedJobs) ThrowFinished(_finished.Count);

        static void ThrowOrphanRequests(int open) => throw new InvalidOperationException($"no repair job or transfer runs but {open} repair requests are open");
        static void ThrowFinished(int finished) => throw new InvalidOperationException($"{finished} finished jobs remembered");
    }
}

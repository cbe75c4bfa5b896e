namespace Meteora.Engine.Repair;

/// <summary>
/// One repair of every partition this node replicates, against each of its peer replicas: a queue
/// of sessions of which the anti-entropy room runs at most MaxConcurrentSessions at once. A partition
/// is done when all its sessions have finished; the job fails if any session failed. The job only
/// counts: anti-entropy starts sessions and reports their ends, and is told which partitions are
/// now repaired.
/// </summary>
internal sealed class RepairJob
{
    private readonly Queue<RepairSession> _queued = new();
    private readonly List<RepairSession> _running = new();
    private readonly Dictionary<int, int> _sessionsLeftByPartition = new();
    private readonly HashSet<int> _failedPartitions = new();
    private long _keysRepairedFinished;
    private long _bytesSentFinished;

    public RepairJob(string id, bool background, long startedAtMicros, long startSequence)
    {
        Id = id;
        Background = background;
        StartedAtMicros = startedAtMicros;
        StartSequence = startSequence;
    }

    public string Id { get; }
    public bool Background { get; }
    public long StartedAtMicros { get; }

    /// <summary>The tombstone log's sequence when the job started.</summary>
    public long StartSequence { get; }
    public long? FinishedAtMicros { get; private set; }
    public int PartitionsTotal { get; private set; }
    public int PartitionsDone { get; private set; }
    public int SessionsFailed { get; private set; }
    public int Running => _running.Count;
    public bool Finished => FinishedAtMicros is not null;

    /// <summary>True when nothing is queued or running: the job can be finished.</summary>
    public bool Drained => _running.Count == 0 && _queued.Count == 0;

    /// <summary>
    /// Queues a partition's sessions; returns true if it has none and is complete (a single replica holds
    /// everything there is). <paramref name="incomplete"/>: some peer was left out (down), so the partition
    /// is never reported as repaired with every peer.
    /// </summary>
    public bool AddPartition(int partition, List<RepairSession> sessions, bool incomplete = false)
    {
        if (Finished) throw new InvalidOperationException($"job {Id} already finished");
        PartitionsTotal++;
        if (incomplete) _failedPartitions.Add(partition);
        if (sessions.Count == 0)
        {
            PartitionsDone++;
            return !incomplete;
        }
        foreach (RepairSession session in sessions) _queued.Enqueue(session);
        _sessionsLeftByPartition[partition] = sessions.Count;
        return false;
    }

    /// <summary>The next queued session, if fewer than <paramref name="maxConcurrent"/> run; it counts as running from now.</summary>
    public RepairSession? NextToStart(int maxConcurrent)
    {
        if (_running.Count >= maxConcurrent || !_queued.TryDequeue(out RepairSession? session)) return null;
        _running.Add(session);
        return session;
    }

    /// <summary>Records a finished session; returns its partition if that partition is now repaired with every peer.</summary>
    public int? OnSessionFinished(RepairSession session)
    {
        if (!session.Finished || !_running.Remove(session))
        {
            throw new InvalidOperationException($"session of partition {session.Partition} reported finished twice or while running");
        }
        _keysRepairedFinished += session.KeysRepaired;
        _bytesSentFinished += session.BytesSent;
        if (session.State == RepairState.Failed)
        {
            SessionsFailed++;
            _failedPartitions.Add(session.Partition);
        }
        int left = --_sessionsLeftByPartition[session.Partition];
        if (left > 0) return null;
        PartitionsDone++;
        return _failedPartitions.Contains(session.Partition) ? null : session.Partition;
    }

    public void Finish(long nowMicros)
    {
        if (!Drained || Finished) throw new InvalidOperationException($"job {Id} cannot finish: {Running} running, {_queued.Count} queued");
        FinishedAtMicros = nowMicros;
    }

    public RepairStatus Status()
    {
        long keys = _keysRepairedFinished, bytes = _bytesSentFinished;
        foreach (RepairSession session in _running)
        {
            keys += session.KeysRepaired;
            bytes += session.BytesSent;
        }
        return new RepairStatus(Id, !Finished ? "running" : SessionsFailed > 0 ? "failed" : "done",
            PartitionsTotal, PartitionsDone, keys, bytes, StartedAtMicros, FinishedAtMicros, SessionsFailed, Background);
    }

    /// <summary>Running sessions are within the limit and none of them is finished (finished ones are reported at once).</summary>
    public void CheckInvariants(int maxConcurrent)
    {
        if (_running.Count > maxConcurrent) ThrowTooMany(Id, _running.Count, maxConcurrent);
        for (int i = 0; i < _running.Count; i++)
        {
            if (_running[i].Finished) ThrowUnreported(Id, _running[i].Partition);
        }
        if (PartitionsDone > PartitionsTotal) ThrowDone(Id, PartitionsDone, PartitionsTotal);

        // Messages in other methods: this runs after every event of a node with a repair job (issue 11).
        static void ThrowTooMany(string id, int running, int max) => throw new InvalidOperationException($"job {id} runs {running} sessions, limit {max}");
        static void ThrowUnreported(string id, int partition) => throw new InvalidOperationException($"job {id}: session of partition {partition} finished but not reported");
        static void ThrowDone(string id, int done, int total) => throw new InvalidOperationException($"job {id}: {done} of {total} partitions done");
    }
}

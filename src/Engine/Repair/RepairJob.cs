using Meteora.Engine.Merkle;

namespace Meteora.Engine.Repair;

/// <summary>
/// One repair of every partition this node replicates, against each of its peer replicas: a queue
/// of sessions of which at most MaxConcurrentSessions run at once. A partition is done when all
/// its sessions have finished; the job fails if any session failed.
/// </summary>
internal sealed class RepairJob
{
    private readonly Queue<RepairSession> _queued = new();
    private readonly SortedDictionary<int, int> _sessionsLeftByPartition = new();
    private readonly HashSet<int> _failedPartitions = new();
    private readonly Action<RepairSession> _start;
    private readonly Action<RepairJob> _finished;

    public RepairJob(string id, bool background, long startedAtMicros, ReplicaTrees trees, Action<RepairSession> start, Action<RepairJob> finished)
    {
        Id = id;
        Background = background;
        StartedAtMicros = startedAtMicros;
        Trees = trees;
        _start = start;
        _finished = finished;
    }

    public string Id { get; }
    public bool Background { get; }
    public ReplicaTrees Trees { get; }
    public long StartedAtMicros { get; }
    public long? FinishedAtMicros { get; private set; }
    public int PartitionsTotal { get; private set; }
    public int PartitionsDone { get; private set; }
    public long KeysRepaired { get; set; }
    public long BytesSent { get; set; }
    public int SessionsFailed { get; private set; }
    public int Running { get; private set; }
    public bool Finished => FinishedAtMicros is not null;
    public Func<long>? Now { get; init; }

    /// <summary>The tombstone log's sequence when the job started.</summary>
    public long StartSequence { get; init; }

    /// <summary>Called when every session of a partition succeeded.</summary>
    public Action<int, long>? OnPartitionRepaired { get; init; }

    public void AddPartition(int partition, IEnumerable<RepairSession> sessions)
    {
        int count = 0;
        foreach (RepairSession session in sessions)
        {
            _queued.Enqueue(session);
            count++;
        }
        PartitionsTotal++;
        if (count == 0)
        {
            PartitionsDone++;
            OnPartitionRepaired?.Invoke(partition, StartSequence); // a single replica holds everything there is
        }
        else
        {
            _sessionsLeftByPartition[partition] = count;
        }
    }

    /// <summary>Starts queued sessions up to the concurrency limit; finishes the job when nothing is left.</summary>
    public void Pump(int maxConcurrent)
    {
        while (Running < maxConcurrent && _queued.TryDequeue(out RepairSession? session))
        {
            Running++;
            _start(session);
        }
        if (Running == 0 && _queued.Count == 0 && !Finished)
        {
            FinishedAtMicros = Now?.Invoke() ?? StartedAtMicros;
            _finished(this);
        }
    }

    public void OnSessionFinished(RepairSession session)
    {
        Running--;
        if (session.State == RepairState.Failed)
        {
            SessionsFailed++;
            _failedPartitions.Add(session.Partition);
        }
        int left = --_sessionsLeftByPartition[session.Partition];
        if (left == 0)
        {
            PartitionsDone++;
            if (!_failedPartitions.Contains(session.Partition)) OnPartitionRepaired?.Invoke(session.Partition, StartSequence);
        }
    }

    public RepairStatus Status() => new(
        Id,
        !Finished ? "running" : SessionsFailed > 0 ? "failed" : "done",
        PartitionsTotal,
        PartitionsDone,
        KeysRepaired,
        BytesSent,
        StartedAtMicros,
        FinishedAtMicros,
        SessionsFailed,
        Background);
}

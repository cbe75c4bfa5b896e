using Meteora.Engine.Runtime;

namespace Meteora.Engine.Repair;

/// <summary>
/// Anti-entropy's outstanding requests and pushes, each under an id from this registry's own counter
/// with a timeout timer of the same id: a reply, an ack or a timeout finds its session here in O(1).
/// Sessions open an id when they send and close it when they are done with it.
/// </summary>
internal sealed class RepairRequests
{
    private readonly Dictionary<long, RepairSession> _sessions = new();
    private readonly IScheduler _scheduler;
    private long _nextId;

    public RepairRequests(IScheduler scheduler, IRandom random)
    {
        _scheduler = scheduler;
        // A random start, so replies to a previous incarnation of this node are not taken for new ones.
        _nextId = (long)(random.NextUInt64() >> 2) + 1;
    }

    public int Count => _sessions.Count;

    public long Open(RepairSession session, long timeoutMicros)
    {
        if (_sessions.Count >= Limits.MaxRepairRequestsInFlight)
        {
            throw new InvalidOperationException($"{_sessions.Count} repair requests in flight; the limit is {Limits.MaxRepairRequestsInFlight}");
        }
        long id = _nextId++;
        _sessions.Add(id, session);
        _scheduler.StartTimer(new TimerId(TimerOwner.RepairRequest, id), timeoutMicros);
        return id;
    }

    public void Close(long id) => _sessions.Remove(id);

    /// <summary>The session waiting on <paramref name="id"/>, if the answer comes from its peer.</summary>
    public RepairSession? Find(long id, int fromNode) =>
        _sessions.TryGetValue(id, out RepairSession? session) && session.Peer == fromNode ? session : null;

    public RepairSession? Find(long id) => _sessions.GetValueOrDefault(id);

    /// <summary>Every open id belongs to a session still running that says it waits on it.</summary>
    public void CheckInvariants()
    {
        foreach (var (id, session) in _sessions)
        {
            if (session.Finished || !session.IsWaitingOn(id))
            {
                throw new InvalidOperationException($"repair request {id} is open for a session of partition {session.Partition} that {(session.Finished ? "finished" : "does not wait on it")}");
            }
        }
    }
}

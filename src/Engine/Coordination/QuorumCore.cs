namespace Meteora.Engine.Coordination;

/// <summary>
/// What the write and read quorum cores share: which replicas answered or failed, the required count
/// (W or R), and the rule that a decision is given once — when enough replicas answered positively,
/// when so many failed that the required count can no longer be reached, or at the timeout.
/// </summary>
public abstract class QuorumCore
{
    private ReplicaSet _replicas;

    private protected QuorumCore(int replicaCount, int required, string name)
    {
        _replicas = new ReplicaSet(replicaCount);
        if (required < 1 || required > replicaCount)
        {
            throw new ArgumentOutOfRangeException(nameof(required), required, $"{name} must be in 1..{replicaCount}");
        }
        Required = required;
    }

    public int ReplicaCount => _replicas.Count;
    public int Required { get; }
    public int Failures => _replicas.FailedCount;
    public bool Decided { get; private set; }
    public bool AllAnswered => _replicas.AllAnswered;

    /// <summary>Replicas that answered positively (durable acks, or read replies).</summary>
    private protected int Positive => _replicas.AnsweredCount - _replicas.FailedCount;

    /// <summary>True once too many replicas failed for the required count to be reached.</summary>
    public bool CannotSucceed => Failures > ReplicaCount - Required;

    private protected bool TryAnswer(int index, bool failed) => _replicas.TryAnswer(index, failed);

    /// <summary>Replica <paramref name="index"/> answered (or failed) already.</summary>
    public bool HasAnswered(int index) => _replicas.HasAnswered(index);

    /// <summary>Replica <paramref name="index"/> failed (nacked, unreachable, or no stand-in could be found for it).</summary>
    public bool HasFailed(int index) => _replicas.HasFailed(index);

    private protected bool Replied(int index) => _replicas.HasAnswered(index) && !_replicas.HasFailed(index);

    /// <summary>The request's timeout fired: unavailable unless already decided.</summary>
    public QuorumDecision Timeout() => Decided ? QuorumDecision.Wait : Decide(QuorumDecision.Unavailable);

    private protected QuorumDecision Decide(QuorumDecision decision)
    {
        Decided = true;
        return decision;
    }

    /// <summary>Throws if the counters contradict each other or a due decision was not given.</summary>
    public void CheckInvariants()
    {
        if (Positive < 0 || Positive + Failures > ReplicaCount)
        {
            throw new InvalidOperationException($"{GetType().Name}: {Positive} answers + {Failures} failures > {ReplicaCount} replicas");
        }
        if (!Decided && (Positive >= Required || CannotSucceed))
        {
            throw new InvalidOperationException($"{GetType().Name}: undecided with {Positive} answers, {Failures} failures, required {Required}");
        }
    }
}

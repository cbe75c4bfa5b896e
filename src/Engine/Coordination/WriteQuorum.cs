namespace Meteora.Engine.Coordination;

/// <summary>
/// The decision core of one write (after Riak's riak_kv_put_core): acks and failures in, a decision
/// out, no network, no clock. Succeeds once <see cref="Required"/> (W) replicas acked durably; fails
/// as soon as so many replicas failed that W can no longer be reached, or at the timeout. Late and
/// duplicate answers are counted once and never change a decision already given.
/// </summary>
public sealed class WriteQuorum
{
    private ReplicaSet _replicas;

    public WriteQuorum(int replicaCount, int required)
    {
        _replicas = new ReplicaSet(replicaCount);
        if (required < 1 || required > replicaCount)
        {
            throw new ArgumentOutOfRangeException(nameof(required), required, $"W must be in 1..{replicaCount}");
        }
        Required = required;
    }

    public int ReplicaCount => _replicas.Count;
    public int Required { get; }
    public int Acks => _replicas.AnsweredCount - _replicas.FailedCount;
    public int Failures => _replicas.FailedCount;
    public bool Decided { get; private set; }
    public bool AllAnswered => _replicas.AllAnswered;

    /// <summary>Replica <paramref name="index"/> acked (durable) or nacked/was unreachable.</summary>
    public QuorumDecision Add(int index, bool ok)
    {
        if (!_replicas.TryAnswer(index, failed: !ok) || Decided) return QuorumDecision.Wait;
        if (Acks >= Required) return Decide(QuorumDecision.Ok);
        if (Failures > ReplicaCount - Required) return Decide(QuorumDecision.Unavailable);
        return QuorumDecision.Wait;
    }

    /// <summary>The request's timeout fired: unavailable unless already decided.</summary>
    public QuorumDecision Timeout() => Decided ? QuorumDecision.Wait : Decide(QuorumDecision.Unavailable);

    private QuorumDecision Decide(QuorumDecision decision)
    {
        Decided = true;
        return decision;
    }

    /// <summary>Throws if the counters contradict each other.</summary>
    public void CheckInvariants()
    {
        if (Acks < 0 || Acks + Failures > ReplicaCount)
        {
            throw new InvalidOperationException($"write quorum: {Acks} acks + {Failures} failures > {ReplicaCount} replicas");
        }
        if (!Decided && (Acks >= Required || Failures > ReplicaCount - Required))
        {
            throw new InvalidOperationException($"write quorum: undecided with {Acks} acks, {Failures} failures, W={Required}");
        }
    }
}

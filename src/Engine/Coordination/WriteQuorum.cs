namespace Meteora.Engine.Coordination;

/// <summary>
/// The decision core of one write (after Riak's riak_kv_put_core): acks and failures in, a decision
/// out, no network, no clock. Succeeds once <see cref="QuorumCore.Required"/> (W) replicas acked
/// durably; fails as soon as so many replicas failed that W can no longer be reached, or at the
/// timeout. Late and duplicate answers are counted once and never change a decision already given.
/// </summary>
public sealed class WriteQuorum(int replicaCount, int required) : QuorumCore(replicaCount, required, "W")
{
    public int Acks => Positive;

    /// <summary>Replica <paramref name="index"/> acked (durable) or nacked/was unreachable.</summary>
    public QuorumDecision Add(int index, bool ok)
    {
        if (!TryAnswer(index, failed: !ok) || Decided) return QuorumDecision.Wait;
        if (Acks >= Required) return Decide(QuorumDecision.Ok);
        return CannotSucceed ? Decide(QuorumDecision.Unavailable) : QuorumDecision.Wait;
    }
}

using Meteora.Engine.Versioning;

namespace Meteora.Engine.Coordination;

/// <summary>
/// The decision core of one read (after Riak's riak_kv_get_core): replies and failures in, a
/// decision out, and at the end a read-repair action (Dynamo section 4.7). Answers once
/// <see cref="Required"/> (R) replicas replied: Ok with the newest value, or NotFound when the
/// newest is a tombstone or nothing; Unavailable once R can no longer be reached, or at the
/// timeout. Replies after the answer are still recorded, so the final repair covers late replicas.
/// </summary>
public sealed class ReadQuorum : QuorumCore
{
    private readonly StoredValue?[] _replies;
    private readonly Func<StoredValue, StoredValue, bool> _newer;

    /// <param name="newer">The LWW order, "is a newer than b" (a parameter so a planted bug can swap it).</param>
    public ReadQuorum(int replicaCount, int required, Func<StoredValue, StoredValue, bool> newer)
        : base(replicaCount, required, "R")
    {
        _newer = newer ?? throw new ArgumentNullException(nameof(newer));
        _replies = new StoredValue?[replicaCount];
    }

    public int Replies => Positive;

    /// <summary>The newest version among the replies so far (null: none replied with anything).</summary>
    public StoredValue? Newest { get; private set; }

    /// <summary>Replica <paramref name="index"/> replied with what it holds (null: no entry).</summary>
    public QuorumDecision AddReply(int index, StoredValue? value)
    {
        if (!TryAnswer(index, failed: false)) return QuorumDecision.Wait;
        _replies[index] = value;
        if (value is not null && (Newest is null || _newer(value, Newest))) Newest = value;
        if (Decided || Replies < Required) return QuorumDecision.Wait;
        return Decide(Newest is null || Newest.IsTombstone ? QuorumDecision.NotFound : QuorumDecision.Ok);
    }

    /// <summary>Replica <paramref name="index"/> could not be reached.</summary>
    public QuorumDecision AddFailure(int index)
    {
        if (!TryAnswer(index, failed: true) || Decided) return QuorumDecision.Wait;
        return CannotSucceed ? Decide(QuorumDecision.Unavailable) : QuorumDecision.Wait;
    }

    /// <summary>
    /// The read repair to run once every replica answered or the request timed out: the newest value,
    /// and the replicas (by index) that replied with something older or nothing. Unreachable and
    /// silent replicas are not targets (anti-entropy covers them). Empty when nothing was found.
    /// </summary>
    public ReadRepairAction FinalAction()
    {
        if (Newest is null) return default;
        uint targets = 0;
        for (int i = 0; i < _replies.Length; i++)
        {
            if (!Replied(i)) continue;
            StoredValue? held = _replies[i];
            if (held is null || _newer(Newest, held)) targets |= 1u << i;
        }
        return new ReadRepairAction(Newest, targets);
    }
}

/// <summary>Read repair after a read: send <see cref="Value"/> to each replica index set in <see cref="Targets"/>.</summary>
public readonly record struct ReadRepairAction(StoredValue? Value, uint Targets)
{
    public bool IsTarget(int index) => (Targets & (1u << index)) != 0;

    public bool IsEmpty => Value is null || Targets == 0;
}

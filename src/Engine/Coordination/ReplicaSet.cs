namespace Meteora.Engine.Coordination;

/// <summary>
/// Which of a request's replicas (by index into its preference list, at most
/// <see cref="Limits.MaxReplicationFactor"/>) have answered and which failed, as bit masks: a
/// duplicate or a stranger's answer is recognised without allocating.
/// </summary>
public struct ReplicaSet
{
    private uint _answered;
    private uint _failed;

    public ReplicaSet(int count)
    {
        if (count < 1 || count > Limits.MaxReplicationFactor)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"replica count must be in 1..{Limits.MaxReplicationFactor}");
        }
        Count = count;
    }

    public int Count { get; }

    public readonly int AnsweredCount => System.Numerics.BitOperations.PopCount(_answered);

    public readonly int FailedCount => System.Numerics.BitOperations.PopCount(_failed);

    public readonly bool AllAnswered => AnsweredCount == Count;

    public readonly bool HasAnswered(int index) => (_answered & Bit(index)) != 0;

    public readonly bool HasFailed(int index) => (_failed & Bit(index)) != 0;

    /// <summary>Marks replica <paramref name="index"/> as answered; false if it already had (a duplicate).</summary>
    public bool TryAnswer(int index, bool failed)
    {
        uint bit = Bit(index);
        if ((_answered & bit) != 0) return false;
        _answered |= bit;
        if (failed) _failed |= bit;
        return true;
    }

    private readonly uint Bit(int index)
    {
        if ((uint)index >= (uint)Count) ThrowOutOfRange(index, Count);
        return 1u << index;

        // The message in its own method: its builder's locals cost every call a larger frame (issue 11).
        static void ThrowOutOfRange(int index, int count) =>
            throw new ArgumentOutOfRangeException(nameof(index), index, $"replica index must be in 0..{count - 1}");
    }
}

using Meteora.Engine.Membership;

namespace Meteora.Engine.Coordination;

/// <summary>
/// The fallbacks standing in for a sloppy request's unreachable primaries (Dynamo section 4.6): slot i
/// of the preference list is answered by <see cref="Node"/>(i) when set. Fallbacks are taken in walk
/// order, each at most once per request, skipping nodes the detector suspects and the partition's
/// pending replicas (they get the write anyway, and their acks would be ambiguous).
/// Created only when a primary is unreachable, so a healthy request allocates nothing for it.
/// </summary>
internal sealed class StandIns
{
    private readonly int[] _fallbacks;
    private readonly int[] _bySlot;
    private int _next;

    public StandIns(int[] fallbacks, int slots)
    {
        _fallbacks = fallbacks;
        _bySlot = new int[slots];
        Array.Fill(_bySlot, -1);
    }

    /// <summary>The fallback standing in for slot <paramref name="slot"/>, or -1.</summary>
    public int Node(int slot) => _bySlot[slot];

    /// <summary>The slot <paramref name="node"/> stands in for, or -1.</summary>
    public int SlotOf(int node) => Array.IndexOf(_bySlot, node);

    /// <summary>Picks the next usable fallback for <paramref name="slot"/> (replacing one that failed); -1 when none is left.</summary>
    public int Choose(int slot, FailureDetector detector, int[] pending)
    {
        while (_next < _fallbacks.Length)
        {
            int node = _fallbacks[_next++];
            if (detector.IsDown(node) || Array.IndexOf(pending, node) >= 0) continue;
            _bySlot[slot] = node;
            return node;
        }
        _bySlot[slot] = -1;
        return -1;
    }
}

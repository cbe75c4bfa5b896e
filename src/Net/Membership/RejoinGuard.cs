using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;

namespace Meteora.Net.Membership;

/// <summary>
/// Sits between the engine and the peer transport of a node started with <c>--join</c>. The engine keeps
/// asking its seed to be let in whenever the ring does not name it — also after it has left, so a node
/// that was told to leave would join again instead of handing off and exiting. Once a ring has named this
/// node normal or leaving (its join completed), its own join requests are dropped here: in this process's
/// life it completes at most one join (a restart with <c>--join</c> may join again). A joiner dropped by
/// an aborted change was never normal, so it still asks again, as the engine intends. The engine's
/// request then times out, which it treats as transient.
/// </summary>
public sealed class RejoinGuard(int self, ITransport inner) : ITransport
{
    private volatile bool _wasMember;

    /// <summary>Join requests of this node that were not sent.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    private long _suppressed;

    /// <summary>On the event loop, for every adopted ring.</summary>
    public void OnRingAdopted(RingState ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (ring.MemberOf(self) is { Status: MemberStatus.Normal or MemberStatus.Leaving }) _wasMember = true;
    }

    public void Send(int toNode, Message message)
    {
        if (_wasMember && message is RingChangeRequest { Change: RingChangeKind.Join } request && request.Node == self)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }
        inner.Send(toNode, message);
    }
}

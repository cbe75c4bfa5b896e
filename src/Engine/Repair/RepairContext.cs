using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Replica;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Repair;

/// <summary>What repair sessions work with: the replica store, the outbox, the request registry, the clock.</summary>
internal sealed class RepairContext
{
    public required int NodeId { get; init; }
    public required Membership.RingView Ring { get; init; }
    public required RepairOptions Options { get; init; }
    public required ReplicaStore Store { get; init; }
    public required Outbox Outbox { get; init; }
    public required RepairRequests Requests { get; init; }
    public required IClock Clock { get; init; }

    /// <summary>Planted bug merkle-skip-leaf: the descent never reports leaf 0 as differing.</summary>
    public required bool SkipsFirstLeaf { get; init; }

    public long RequestTimeoutMicros => TimeUnits.MsToMicros(Options.RequestTimeoutMs);

    public long PurgeCutoffMicros => Options.PurgeCutoffMicros(Clock.NowMicros);

    /// <summary>Sends and returns the encoded size in bytes (for the job's bytesSent).</summary>
    public int Send(int toNode, Message message)
    {
        Outbox.Send(toNode, message);
        return MessageCodec.EncodedSize(message);
    }
}

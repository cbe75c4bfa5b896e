using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Coordination;

/// <summary>What a pending read and write share: the preference list, the fallbacks and which of them stand in for whom.</summary>
internal abstract class PendingRequest(long requestId, ClientRequest client, int[] replicas, int[] fallbacks)
{
    public long RequestId { get; } = requestId;
    public ClientRequest Client { get; } = client;

    /// <summary>The key's preference list (shared, read-only).</summary>
    public int[] Replicas { get; } = replicas;

    /// <summary>The key's fallback nodes past the first N (shared, read-only).</summary>
    public int[] Fallbacks { get; } = fallbacks;

    /// <summary>Set once a primary is unreachable and a fallback stands in for it.</summary>
    public StandIns? StandIns { get; set; }

    /// <summary>The slot <paramref name="node"/> answers for, as a primary or a stand-in; -1 for a stranger.</summary>
    public int SlotOf(int node)
    {
        int slot = Array.IndexOf(Replicas, node);
        return slot >= 0 || StandIns is null ? slot : StandIns.SlotOf(node);
    }

    /// <summary>Slot <paramref name="slot"/> is answered by a fallback.</summary>
    public bool StoodIn(int slot) => StandIns is not null && StandIns.Node(slot) >= 0;
}

/// <summary>A client write waiting for W durable acks: an explicit continuation keyed by request id.</summary>
internal sealed class PendingWrite(long requestId, ClientRequest client, int[] replicas, int[] fallbacks, int[] pending, int required, StoredValue written)
    : PendingRequest(requestId, client, replicas, fallbacks)
{
    /// <summary>Nodes a running ring change moves the partition to (shared, read-only).</summary>
    public int[] Pending { get; } = pending;
    public StoredValue Written { get; } = written;
    public WriteQuorum Quorum { get; } = new(replicas.Length, required);
}

/// <summary>A client read waiting for R replies; kept after the answer until every replica answered, for read repair.</summary>
internal sealed class PendingRead(long requestId, ClientRequest client, int[] replicas, int[] fallbacks, int required, int decidingRequired, VersionOrder order)
    : PendingRequest(requestId, client, replicas, fallbacks)
{
    /// <summary>R as the client asked (what the answer reports).</summary>
    public int Required { get; } = required;

    /// <summary>R the quorum decides on: equal to <see cref="Required"/> except under the planted read-ignores-r bug.</summary>
    public ReadQuorum Quorum { get; } = new(replicas.Length, decidingRequired, order.Newer);
}

using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Coordination;

/// <summary>A client write waiting for W durable acks: an explicit continuation keyed by request id.</summary>
internal sealed class PendingWrite(long requestId, ClientRequest client, int[] replicas, int required, StoredValue written)
{
    public long RequestId { get; } = requestId;
    public ClientRequest Client { get; } = client;

    /// <summary>The key's preference list (shared, read-only).</summary>
    public int[] Replicas { get; } = replicas;
    public StoredValue Written { get; } = written;
    public WriteQuorum Quorum { get; } = new(replicas.Length, required);
}

/// <summary>A client read waiting for R replies; kept after the answer until every replica answered, for read repair.</summary>
internal sealed class PendingRead(long requestId, ClientRequest client, int[] replicas, int required, int decidingRequired, VersionOrder order)
{
    public long RequestId { get; } = requestId;
    public ClientRequest Client { get; } = client;
    public int[] Replicas { get; } = replicas;

    /// <summary>R as the client asked (what the answer reports).</summary>
    public int Required { get; } = required;

    /// <summary>R the quorum decides on: equal to <see cref="Required"/> except under the planted read-ignores-r bug.</summary>
    public ReadQuorum Quorum { get; } = new(replicas.Length, decidingRequired, order.Newer);
}

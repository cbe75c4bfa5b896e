using Meteora.Engine.Ring;

namespace Meteora.Engine.Membership;

/// <summary>
/// The ring as this node's rooms read it: the adopted <see cref="RingState"/> plus what each request asks
/// of it, precomputed once per state — read replicas (the current layout), pending replicas that also get
/// writes while a change runs, and whether this node serves a partition (replica now or in the target).
/// Null state: a joining node that has not received the ring yet. Only the membership room adopts states.
/// </summary>
internal sealed class RingView
{
    private static readonly int[] None = [];
    private int[][] _pending = [];
    private bool[] _serves = [];

    public RingView(int self, int partitionCount, int replicationFactor)
    {
        Ring.RingLayout.RequirePowerOfTwo(partitionCount);
        Self = self;
        PartitionCount = partitionCount;
        ReplicationFactor = replicationFactor;
    }

    public int Self { get; }
    public int PartitionCount { get; }
    public int ReplicationFactor { get; }
    public RingState? State { get; private set; }

    /// <summary>This node is in the ring (joining, normal or leaving).</summary>
    public bool IsMember { get; private set; }

    public long Version => State?.Version ?? 0;

    /// <summary>The placement reads and quorums use; throws while the ring is unknown (callers check <see cref="IsMember"/>).</summary>
    public ReplicaPlacement Current => State?.CurrentPlacement ?? throw new InvalidOperationException($"node {Self} does not know the ring yet");

    /// <summary>Nodes that get a partition's writes, uncounted, while a change moves it to them.</summary>
    public int[] PendingReplicas(int partition) => _pending.Length == 0 ? None : _pending[partition];

    /// <summary>This node holds the partition's data: a replica in the current layout or in the target.</summary>
    public bool Serves(int partition) => _serves.Length != 0 && _serves[partition];

    public void Adopt(RingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.PartitionCount != PartitionCount || state.ReplicationFactor != ReplicationFactor)
        {
            throw new ArgumentException($"ring has Q={state.PartitionCount} N={state.ReplicationFactor}, this node Q={PartitionCount} N={ReplicationFactor}", nameof(state));
        }
        if (State is not null && !state.Supersedes(State)) throw new ArgumentException($"ring version {state.Version} does not supersede {State.Version}", nameof(state));
        var pending = new int[PartitionCount][];
        var serves = new bool[PartitionCount];
        for (int p = 0; p < PartitionCount; p++)
        {
            pending[p] = state.PendingReplicas(p);
            serves[p] = state.CurrentPlacement.IsReplica(p, Self) || (state.TargetPlacement?.IsReplica(p, Self) ?? false);
        }
        (State, _pending, _serves) = (state, pending, serves);
        IsMember = state.MemberOf(Self) is not null;
    }
}

using Meteora.Engine.Coordination;
using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Replica;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Node;

/// <summary>
/// One Meteora node as a deterministic state machine: a thin router over its rooms. Every input is a
/// method call the host makes on the node's single event loop (client request, peer message, timer,
/// storage completion, failed send); the node hands it to the room that owns it — the
/// <see cref="Coordinator"/> (client requests, quorums, read repair), the <see cref="ReplicaStore"/>
/// (storage, Merkle trees, durable acks) or <see cref="AntiEntropy"/> (repair) — then delivers the
/// messages the rooms sent this node itself, one after another, until none is left. Every output goes
/// through the injected interfaces.
/// </summary>
public sealed class MeteoraNode
{
    private readonly Outbox _outbox;
    private readonly Coordinator _coordinator;
    private readonly ReplicaStore _store;
    private readonly AntiEntropy _antiEntropy;
    private readonly FailureDetector _detector;
    private readonly RingGossip _gossip;

    public MeteoraNode(
        NodeOptions options,
        ReplicaPlacement placement,
        IClock clock,
        IScheduler scheduler,
        ITransport transport,
        IStorage storage,
        IRandom random,
        IClientResponder responder,
        IBuggify? buggify = null,
        ILocalMessageTap? localTap = null,
        RingState? ring = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentNullException.ThrowIfNull(placement);
        if (!placement.Layout.Contains(options.NodeId))
        {
            throw new ArgumentException($"node {options.NodeId} is not a member of the ring", nameof(placement));
        }
        if (placement.ReplicationFactor != options.ReplicationFactor)
        {
            throw new ArgumentException($"placement uses N={placement.ReplicationFactor} but options say N={options.ReplicationFactor}", nameof(placement));
        }
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(responder);
        buggify ??= NoBuggify.Instance;
        NodeId = options.NodeId;
        Placement = placement;
        var versions = new VersionClock(clock, (uint)options.NodeId);
        VersionOrder order = (options.PlantedBugs & PlantedBug.LwwNoTieBreak) != 0 ? VersionOrder.NoTieBreak : VersionOrder.Lww;
        _outbox = new Outbox(options.NodeId, transport, scheduler, localTap);
        _detector = new FailureDetector(options, placement.Layout.Nodes.ToArray(), _outbox, scheduler, clock);
        _coordinator = new Coordinator(options, placement, versions, order, _outbox, scheduler, responder, buggify, random, _detector, Counters);
        _store = new ReplicaStore(options, placement, storage, versions, order, _outbox, scheduler, buggify);
        _antiEntropy = new AntiEntropy(options, placement, _store, _outbox, scheduler, clock, random, Counters);
        ring ??= RingState.Initial(placement.PartitionCount, placement.ReplicationFactor, DefaultAddresses(placement));
        _gossip = new RingGossip(options, placement, ring, _outbox, scheduler, random, _detector);
        _store.Start();
        _antiEntropy.Start();
        _detector.Start();
        _gossip.Start();
    }

    public int NodeId { get; }

    /// <summary>The ring state this node holds (and gossips).</summary>
    public RingState Ring => _gossip.Ring;

    /// <summary>Gossiped ring states this node refused: undecodable, or a layout it does not serve.</summary>
    public long RingStatesRejected => _gossip.StatesRejected + _gossip.Mismatches;

    /// <summary>Without real addresses (the simulator, tests) members are named after their ids.</summary>
    private static IEnumerable<(int, string)> DefaultAddresses(ReplicaPlacement placement)
    {
        foreach (int node in placement.Layout.Nodes.ToArray()) yield return (node, $"node-{node}");
    }

    /// <summary>What the rooms did, for metrics; written only on the event loop.</summary>
    public NodeCounters Counters { get; } = new();

    /// <summary>The replica room, for tests that drive it directly.</summary>
    internal ReplicaStore Store => _store;

    public ReplicaPlacement Placement { get; }

    /// <summary>Coordinator requests still waiting for replicas or their timeout.</summary>
    public int PendingRequestCount => _coordinator.PendingCount;

    public int DefaultReadConsistency => _coordinator.DefaultReadConsistency;

    public int DefaultWriteConsistency => _coordinator.DefaultWriteConsistency;

    /// <summary>Replica disk operations submitted and not completed yet.</summary>
    public int InFlightStorageOps => _store.InFlightCount;

    /// <summary>Replica writes refused because too many disk operations were in flight.</summary>
    public long WritesRefused => _store.WritesRefused;

    public long TombstonesPurged => _antiEntropy.TombstonesPurged;

    /// <summary>Each peer's phi and verdict from the failure detector, in ascending node id order.</summary>
    public PeerLiveness[] PeerLiveness() => _detector.Peers();

    /// <summary>True when the failure detector currently suspects <paramref name="node"/> (never this node itself).</summary>
    public bool IsPeerDown(int node) => _detector.IsDown(node);

    /// <summary>Starts a repair job over every partition this node replicates; refused (with the running job's id) while one runs.</summary>
    public (bool Started, string RepairId) StartRepair()
    {
        var started = _antiEntropy.StartJob();
        DeliverLocal();
        return started;
    }

    public RepairStatus? RepairStatus(string repairId) => _antiEntropy.Status(repairId);

    /// <summary>The repair job running now, if any.</summary>
    public RepairStatus? RunningRepair => _antiEntropy.RunningStatus;

    /// <summary>Root hash of this node's Merkle tree for the partition (null if not a replica or not built yet).</summary>
    public UInt128? MerkleRoot(int partition) => _store.Trees.Ready(partition)?.Root;

    public void OnClientRequest(ClientRequest request)
    {
        _coordinator.OnClientRequest(request);
        DeliverLocal();
    }

    public void OnMessage(int fromNode, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Dispatch(fromNode, message);
        DeliverLocal();
    }

    public void OnTimer(TimerId timer)
    {
        switch (timer.Owner)
        {
            case TimerOwner.ClientRequest: _coordinator.OnTimeout(timer.Id); break;
            case TimerOwner.DelayedSend: _outbox.OnDelayTimer(timer.Id); break;
            case TimerOwner.MerkleRebuild: _store.OnRebuildTimer(); break;
            case TimerOwner.MaintenanceTick: _antiEntropy.OnTickTimer(); break;
            case TimerOwner.RepairRequest: _antiEntropy.OnRequestTimer(timer.Id); break;
            case TimerOwner.TombstonePurge: _antiEntropy.OnPurgeTimer(); break;
            case TimerOwner.Heartbeat: _detector.OnTimer(); break;
            case TimerOwner.Gossip: _gossip.OnTimer(); break;
            default: throw new ArgumentOutOfRangeException(nameof(timer), timer, "unknown timer owner");
        }
        DeliverLocal();
    }

    public void OnStorageCompleted(long completionToken, bool durable)
    {
        _store.OnCompleted(completionToken, durable);
        DeliverLocal();
    }

    /// <summary>
    /// The transport knows <paramref name="message"/> never reached <paramref name="toNode"/> (connection
    /// refused, send queue full). Must be called on the event loop, after the Send that failed returned.
    /// Acks, replies and repair traffic are covered by the other side's timeouts and the next round.
    /// </summary>
    public void OnSendFailed(int toNode, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _coordinator.OnSendFailed(toNode, message);
        DeliverLocal();
    }

    private void Dispatch(int fromNode, Message message)
    {
        // One jump on the kind instead of a chain of type tests: this runs for every message.
        switch (message.Kind)
        {
            case MessageKind.ReplicaWrite: _store.OnReplicaWrite(fromNode, (ReplicaWrite)message); break;
            case MessageKind.ReplicaWriteAck: _coordinator.OnWriteAck(fromNode, (ReplicaWriteAck)message); break;
            case MessageKind.ReplicaRead: _store.OnReplicaRead(fromNode, (ReplicaRead)message); break;
            case MessageKind.ReplicaReadReply: _coordinator.OnReadReply(fromNode, (ReplicaReadReply)message); break;
            case MessageKind.ReadRepair: _store.OnReadRepair((ReadRepair)message); break;
            case MessageKind.RepairPush: _store.OnRepairPush(fromNode, (RepairPush)message); break;
            case MessageKind.Heartbeat: _detector.OnHeartbeat(fromNode); break;
            case MessageKind.RingDigest: _gossip.OnDigest(fromNode, (RingDigest)message); break;
            case MessageKind.RingStateMessage: _gossip.OnState(fromNode, (RingStateMessage)message); break;
            case MessageKind.MerkleHashesRequest or MessageKind.MerkleHashesReply or MessageKind.LeafEntriesRequest
                or MessageKind.LeafEntriesReply or MessageKind.RepairPullRequest or MessageKind.RepairPullReply
                or MessageKind.RepairPushAck:
                _antiEntropy.OnMessage(fromNode, message);
                break;
            default: throw new ArgumentException($"unhandled message {message.Kind}", nameof(message));
        }
    }

    /// <summary>Messages this node sent itself while handling the input, in order, until none is left.</summary>
    private void DeliverLocal()
    {
        while (_outbox.TryTakeLocal(out Message message)) Dispatch(NodeId, message);
        _outbox.EndEvent();
    }


    /// <summary>
    /// Runs every room's invariant checks; throws <see cref="InvalidOperationException"/> on the first
    /// violated one. <paramref name="deep"/> adds the costly ones (every pending request's quorum,
    /// recounting in-flight operations and open repair requests, recomputing one partition's Merkle
    /// tree from storage). The simulator runs this after every event, deep every 1024th per node.
    /// </summary>
    public void CheckInvariants(bool deep = false)
    {
        _outbox.CheckInvariants();
        _coordinator.CheckInvariants(deep);
        _store.CheckInvariants(deep);
        _antiEntropy.CheckInvariants(deep);
        _detector.CheckInvariants(deep);
        _gossip.CheckInvariants(deep);
    }
}

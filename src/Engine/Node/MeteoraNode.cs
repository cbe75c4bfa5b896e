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
    private readonly RingView _view;
    private readonly Coordinator _coordinator;
    private readonly ReplicaStore _store;
    private readonly AntiEntropy _antiEntropy;
    private readonly FailureDetector _detector;
    private readonly MembershipRoom _membership;
    private readonly RingGossip _gossip;
    private readonly PartitionStreaming _streaming;
    private readonly Handoff.HintedHandoff _handoff;
    private readonly IStorage _storage;
    private readonly IClock _clock;

    /// <summary>A member of a ring: <paramref name="placement"/> is the layout it was configured with (version 1 of the ring unless <paramref name="ring"/> or a saved state says more).</summary>
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
        : this(options, CheckPlacement(options, placement).PartitionCount, ring ?? RingState.Initial(placement.PartitionCount, placement.ReplicationFactor, DefaultAddresses(placement)),
            joinSeed: null, clock, scheduler, transport, storage, random, responder, buggify, localTap)
    {
    }

    /// <summary>
    /// A node that joins a running cluster through <paramref name="seed"/> (any member): it asks until the
    /// claimant admits it, then receives its partitions. A saved ring (a restart mid-join) takes over.
    /// </summary>
    public static MeteoraNode Join(NodeOptions options, int partitionCount, int seed, IClock clock, IScheduler scheduler,
        ITransport transport, IStorage storage, IRandom random, IClientResponder responder, IBuggify? buggify = null,
        ILocalMessageTap? localTap = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (seed == options.NodeId) throw new ArgumentException($"node {seed} cannot join through itself", nameof(seed));
        return new MeteoraNode(options, partitionCount, ring: null, seed, clock, scheduler, transport, storage, random, responder, buggify, localTap);
    }

    private MeteoraNode(NodeOptions options, int partitionCount, RingState? ring, int? joinSeed, IClock clock, IScheduler scheduler,
        ITransport transport, IStorage storage, IRandom random, IClientResponder responder, IBuggify? buggify, ILocalMessageTap? localTap)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(responder);
        buggify ??= NoBuggify.Instance;
        NodeId = options.NodeId;
        _storage = storage;
        _clock = clock;
        ring = NewestOf(ring, storage, partitionCount, options);
        _view = new RingView(options.NodeId, partitionCount, options.ReplicationFactor);
        if (ring is not null && (ring.PartitionCount != partitionCount || ring.ReplicationFactor != options.ReplicationFactor))
        {
            throw new ArgumentException($"ring has Q={ring.PartitionCount} N={ring.ReplicationFactor}, the node Q={partitionCount} N={options.ReplicationFactor}", nameof(ring));
        }
        var versions = new VersionClock(clock, (uint)options.NodeId);
        VersionOrder order = (options.PlantedBugs & PlantedBug.LwwNoTieBreak) != 0 ? VersionOrder.NoTieBreak : VersionOrder.Lww;
        _outbox = new Outbox(options.NodeId, transport, scheduler, localTap);
        var members = new List<int>();
        if (ring is not null) foreach (Member m in ring.Members) members.Add(m.NodeId);
        else if (joinSeed is { } seedNode) members.Add(seedNode);
        _detector = new FailureDetector(options, members, _outbox, scheduler, clock);
        _membership = new MembershipRoom(options, _view, storage, _outbox, scheduler, clock, random, _detector, joinSeed);
        if (ring is not null) _membership.Adopt(ring); // before the other rooms: they read the view as they start
        _coordinator = new Coordinator(options, _view, versions, order, _outbox, scheduler, responder, buggify, random, _detector, Counters);
        _store = new ReplicaStore(options, _view, storage, versions, order, _outbox, scheduler, clock, Counters, buggify);
        _handoff = new Handoff.HintedHandoff(options, _view, storage, _outbox, scheduler, clock, _detector, Counters);
        _antiEntropy = new AntiEntropy(options, _view, _store, _outbox, scheduler, clock, random, Counters);
        _gossip = new RingGossip(options, _view, _membership, _outbox, scheduler, random, _detector, joinSeed);
        _streaming = new PartitionStreaming(options, _view, _antiEntropy.Context, _detector, scheduler, clock, Counters, configuredMember: joinSeed is null);
        _antiEntropy.OtherSessions = () => _streaming.RunningSessions;
        _membership.HoldsNoData = () => _store.HoldsNothing;
        // A node that is not in the ring any more (left, removed) gets no heartbeats and is not a peer: down.
        _antiEntropy.PeerDown = node => _view.State?.MemberOf(node) is null || _detector.IsDown(node);
        _detector.SelfReport = sequence => SelfReport(sequence, storage);
        _membership.OnAdopted(_store.OnRingChanged);
        _membership.OnAdopted(_streaming.OnRingChanged);
        _store.Start();
        _antiEntropy.Start();
        _detector.Start();
        _gossip.Start();
        _membership.Start();
        _streaming.Start();
        _handoff.Start();
    }

    private static ReplicaPlacement CheckPlacement(NodeOptions options, ReplicaPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(placement);
        if (!placement.Layout.Contains(options.NodeId))
        {
            throw new ArgumentException($"node {options.NodeId} is not a member of the ring", nameof(placement));
        }
        if (placement.ReplicationFactor != options.ReplicationFactor)
        {
            throw new ArgumentException($"placement uses N={placement.ReplicationFactor} but options say N={options.ReplicationFactor}", nameof(placement));
        }
        return placement;
    }

    /// <summary>The saved ring wins over the configured one when it supersedes it (membership changed since the config was written).</summary>
    private static RingState? NewestOf(RingState? configured, IStorage storage, int partitionCount, NodeOptions options)
    {
        byte[]? saved = storage.ReadRingState();
        if (saved is null) return configured;
        RingState persisted;
        try
        {
            persisted = RingStateCodec.Decode(saved);
        }
        catch (ProtocolException e)
        {
            throw new InvalidOperationException($"the saved ring state is corrupt: {e.Message}", e);
        }
        if (persisted.PartitionCount != partitionCount || persisted.ReplicationFactor != options.ReplicationFactor)
        {
            throw new InvalidOperationException($"the saved ring has Q={persisted.PartitionCount} N={persisted.ReplicationFactor}, the node is configured with Q={partitionCount} N={options.ReplicationFactor}");
        }
        return configured is null || persisted.Supersedes(configured) ? persisted : configured;
    }

    public int NodeId { get; }

    /// <summary>The ring state this node holds (and gossips); null while a joining node has not received it.</summary>
    public RingState? Ring => _view.State;

    /// <summary>Gossiped ring states this node refused: undecodable, or another Q or N.</summary>
    public long RingStatesRejected => _gossip.StatesRejected + _membership.Mismatches;

    /// <summary>Called on the event loop after every ring state this node adopts (real mode dials new members).</summary>
    public Action<RingState>? RingAdopted
    {
        get => _membership.Adopted;
        set => _membership.Adopted = value;
    }

    /// <summary>Asks the claimant for a ring change (join, leave, remove); poll <see cref="RingChangeOutcome"/> with the ticket.</summary>
    public long RequestRingChange(RingChange change, string? peerAddress = null, bool force = false)
    {
        long ticket = _membership.Request(change, peerAddress, force);
        DeliverLocal();
        return ticket;
    }

    /// <summary>The outcome of a <see cref="RequestRingChange"/> ticket; null while the claimant has not answered.</summary>
    public RingChangeOutcome? RingChangeOutcome(long ticket) => _membership.Outcome(ticket);

    /// <summary>Why the cluster refused this node's join (the host should stop with it); null otherwise.</summary>
    public string? JoinRefused => _membership.JoinRefused;

    /// <summary>This node left the ring (leave or remove completed), has handed off and dropped all its data, and delivered (or dropped) every hint it held.</summary>
    public bool Departed => _streaming.Departed && _handoff.HoldsNothing;

    /// <summary>Partitions this node holds data for (replica now, receiving, or handing off).</summary>
    public int PartitionsHeld => _store.Trees.Count;

    /// <summary>Sessions of ring-change transfers and handoffs running now.</summary>
    public int StreamingSessions => _streaming.RunningSessions;

    /// <summary>Writes refused because this node does not serve the key's partition (a coordinator with an older ring).</summary>
    public long WritesNotServed => _store.WritesNotServed;

    public long PartitionsDropped => _store.PartitionsDropped;

    /// <summary>This node's own status figures, as its heartbeats report them.</summary>
    public Heartbeat SelfReport(long sequence = 0) => SelfReport(sequence, _storage);

    private Heartbeat SelfReport(long sequence, IStorage storage)
    {
        (long keys, long bytes) = storage.EstimateSize();
        return new Heartbeat(sequence, _view.Version, _store.Trees.Count, keys, bytes, _handoff.Pending);
    }

    /// <summary>Without real addresses (the simulator, tests) members are named after their ids.</summary>
    private static IEnumerable<(int, string)> DefaultAddresses(ReplicaPlacement placement)
    {
        foreach (int node in placement.Layout.Nodes.ToArray()) yield return (node, $"node-{node}");
    }

    /// <summary>What the rooms did, for metrics; written only on the event loop.</summary>
    public NodeCounters Counters { get; } = new();

    /// <summary>The replica room, for tests that drive it directly.</summary>
    internal ReplicaStore Store => _store;

    /// <summary>The current layout's placement (reads and quorums); null while a joining node has no ring.</summary>
    public ReplicaPlacement? Placement => _view.State?.CurrentPlacement;

    /// <summary>Hinted handoff: hints held now and what became of those held since start.</summary>
    public Handoff.HintStats HintStats() => _handoff.Stats();

    /// <summary>Hints this node holds now (cheap: no per-target figures).</summary>
    public int HintsPending => _handoff.Pending;

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
            case TimerOwner.Membership: _membership.OnTimer(); break;
            case TimerOwner.Streaming: _streaming.OnTimer(); break;
            case TimerOwner.Handoff: _handoff.OnTimer(); break;
            default: throw new ArgumentOutOfRangeException(nameof(timer), timer, "unknown timer owner");
        }
        DeliverLocal();
    }

    public void OnStorageCompleted(long completionToken, bool durable)
    {
        if (Handoff.HintedHandoff.OwnsToken(completionToken)) _handoff.OnCompleted(completionToken, durable);
        else _store.OnCompleted(completionToken, durable);
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
        _handoff.OnSendFailed(message);
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
            case MessageKind.Heartbeat:
                var heartbeat = (Heartbeat)message;
                _detector.OnHeartbeat(fromNode, heartbeat);
                _gossip.OnPeerVersion(fromNode, heartbeat.RingVersion, _clock.NowMicros);
                break;
            case MessageKind.RingDigest: _gossip.OnDigest(fromNode, (RingDigest)message); break;
            case MessageKind.RingStateMessage: _gossip.OnState(fromNode, (RingStateMessage)message); break;
            case MessageKind.RingChangeRequest: _membership.OnRequest(fromNode, (RingChangeRequest)message); break;
            case MessageKind.RingChangeReply: _membership.OnReply(fromNode, (RingChangeReply)message); break;
            case MessageKind.TransferDone: _membership.OnTransferDone(fromNode, (TransferDone)message); break;
            case MessageKind.ReplicaRefused: _coordinator.OnReadRefused(fromNode, (ReplicaRefused)message); break;
            case MessageKind.HintedWrite: _handoff.OnHintedWrite(fromNode, (HintedWrite)message); break;
            case MessageKind.HintedRead: _handoff.OnHintedRead(fromNode, (HintedRead)message); break;
            case MessageKind.HintReplay: _store.OnHintReplay(fromNode, (HintReplay)message); break;
            case MessageKind.HintReplayAck: _handoff.OnReplayAck(fromNode, (HintReplayAck)message); break;
            case MessageKind.MerkleHashesRequest or MessageKind.MerkleHashesReply or MessageKind.LeafEntriesRequest
                or MessageKind.LeafEntriesReply or MessageKind.RepairPullRequest or MessageKind.RepairPullReply
                or MessageKind.RepairPushAck:
                _antiEntropy.OnMessage(fromNode, message);
                break;
            default: ThrowUnhandled(message.Kind); break;
        }

        // The message in its own method: its builder's locals cost every dispatch a larger frame (issue 11).
        static void ThrowUnhandled(MessageKind kind) => throw new ArgumentException($"unhandled message {kind}", nameof(message));
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
        _membership.CheckInvariants(deep);
        _streaming.CheckInvariants(deep);
        _handoff.CheckInvariants(deep);
    }
}

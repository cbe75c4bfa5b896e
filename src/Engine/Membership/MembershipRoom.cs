using System.Runtime.CompilerServices;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;

namespace Meteora.Engine.Membership;

/// <summary>
/// What became of a ring change this node asked for: accepted at ring <see cref="Version"/>, or refused with
/// <see cref="Error"/>. Conflict: another change runs. Retryable: nobody decided (the ring is unknown here,
/// the claimant is down or silent, too many requests are open), so the same request may succeed later.
/// </summary>
public sealed record RingChangeOutcome(bool Ok, bool Conflict, long Version, string? Error, bool Retryable = false);

/// <summary>
/// The membership room: the one place a ring state is adopted (saved to storage first, then every room
/// is told), the claimant's duties (order change requests one at a time, record verified transfers,
/// flip to the target layout once nothing is pending, push each new state to every member), relaying
/// requests to the claimant, this node's own requests (admin calls: tickets the host polls), and a
/// joining node's requests to its seed until the ring names it. Riak orders ring changes through one
/// claimant in the same way; see docs/membership.md.
/// </summary>
internal sealed class MembershipRoom
{
    /// <summary>Requests this node waits on or relays at once; beyond it a new one is refused.</summary>
    public const int MaxOpenRequests = 256;

    /// <summary>Finished outcomes kept for the host to collect.</summary>
    public const int MaxRememberedOutcomes = 256;

    public const long TickMs = 200;

    private readonly NodeOptions _options;
    private readonly RingView _view;
    private readonly IStorage _storage;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IClock _clock;
    private readonly FailureDetector _detector;
    private readonly int? _joinSeed;
    private readonly List<Action> _listeners = [];
    private readonly Dictionary<long, long> _tickets = new(); // request id → deadline (micros)
    private readonly Dictionary<long, (int Origin, long OriginId, long DeadlineMicros)> _relays = new();
    private readonly Dictionary<long, RingChangeOutcome> _outcomes = new();
    private readonly Queue<long> _outcomeOrder = new();
    private long _nextRequestId;
    private long _joinTicket;
    private bool _served;
    private long _ticks;
    private byte[]? _encoded;

    public MembershipRoom(NodeOptions options, RingView view, IStorage storage, Outbox outbox, IScheduler scheduler,
        IClock clock, IRandom random, FailureDetector detector, int? joinSeed)
    {
        _options = options;
        _view = view;
        _storage = storage;
        _outbox = outbox;
        _scheduler = scheduler;
        _clock = clock;
        _detector = detector;
        _joinSeed = joinSeed;
        // Random start, as the coordinator's: replies meant for an earlier incarnation are not mistaken for ours.
        _nextRequestId = (long)(random.NextUInt64() >> 2) + 1;
    }

    public RingState? Ring => _view.State;

    /// <summary>The adopted state's encoding (what gossip sends); null while the ring is unknown.</summary>
    public byte[]? Encoded => _encoded;

    /// <summary>The host's hook: called on the event loop after every adopted state (real mode updates its peer links).</summary>
    public Action<RingState>? Adopted { get; set; }

    /// <summary>Why the cluster refused this node's join (another id's owner, another Q or N); the host stops.</summary>
    public string? JoinRefused { get; private set; }

    public long StatesAdopted { get; private set; }

    /// <summary>States refused because they describe another Q or N.</summary>
    public long Mismatches { get; private set; }

    /// <summary>
    /// True when this node holds no partition data. A joiner whose join was abandoned asks again only once
    /// it has handed off and dropped what it received: data older than a purged delete must not come back
    /// with it (simulator seed 14 with membership faults).
    /// </summary>
    public Func<bool> HoldsNoData { get; set; } = () => true;

    /// <summary>Rooms that must hear of every adopted state (the replica store, the streaming room).</summary>
    public void OnAdopted(Action listener) => _listeners.Add(listener);

    public void Start() => _scheduler.StartTimer(new TimerId(TimerOwner.Membership, ++_ticks), TimeUnits.MsToMicros(TickMs));

    /// <summary>
    /// Adopts <paramref name="state"/> if it supersedes the held one: saves it, then tells every room.
    /// Returns false for an older state or one of another Q or N. As claimant, completes a change
    /// whose transfers are all verified.
    /// </summary>
    public bool Adopt(RingState state, byte[]? encoded = null)
    {
        if (_view.State is { } held && !state.Supersedes(held)) return false;
        if (_joinSeed is not null && state.MemberOf(_options.NodeId) is { } named && named.PeerAddress != MyAddress)
        {
            // A ring with another node under our id (we asked to join with a duplicate id) must not make
            // us think we are that member.
            return false;
        }
        if (state.PartitionCount != _view.PartitionCount || state.ReplicationFactor != _view.ReplicationFactor)
        {
            Mismatches++;
            return false;
        }
        encoded ??= RingStateCodec.Encode(state);
        _storage.WriteRingState(encoded); // saved before anything acts on it: a restart resumes from here
        _served |= state.MemberOf(_options.NodeId) is { Status: MemberStatus.Normal or MemberStatus.Leaving };
        _view.Adopt(state);
        _encoded = encoded;
        StatesAdopted++;
        var ids = new List<int>(state.Members.Count);
        foreach (Member m in state.Members) ids.Add(m.NodeId);
        _detector.SetMembers(ids);
        foreach (Action listener in _listeners) listener();
        Adopted?.Invoke(state);
        bool flipNow = (_options.PlantedBugs & PlantedBug.FlipBeforeTransfer) != 0; // planted bug: no data moved first
        if (state.Claimant == _options.NodeId && state.Change is not null && (flipNow || state.PendingTransfers().Count == 0))
        {
            Publish(RingTransitions.Complete(state, unverified: flipNow), state);
        }
        return true;
    }

    /// <summary>As claimant: adopt a new state and push it to every member of it and of the state before.</summary>
    private void Publish(RingState next, RingState previous)
    {
        if (!Adopt(next)) throw new InvalidOperationException($"claimant could not adopt its own ring version {next.Version}");
        if (!ReferenceEquals(_view.State, next)) return; // adopting completed the change: that state went out already
        var message = new RingStateMessage(_encoded!);
        var sent = new HashSet<int> { _options.NodeId };
        foreach (Member m in next.Members)
        {
            if (sent.Add(m.NodeId)) _outbox.Send(m.NodeId, message);
        }
        foreach (Member m in previous.Members)
        {
            if (sent.Add(m.NodeId)) _outbox.Send(m.NodeId, message); // departed members learn they are out
        }
    }

    /// <summary>This node asks for a change (an admin call); returns the ticket to poll with <see cref="Outcome"/>.</summary>
    public long Request(RingChange change, string? peerAddress, bool force)
    {
        ArgumentNullException.ThrowIfNull(change);
        long id = _nextRequestId++;
        var request = new RingChangeRequest(id, change.Kind, change.Node, force, peerAddress ?? "", _view.PartitionCount, _view.ReplicationFactor);
        if (_tickets.Count + _relays.Count >= MaxOpenRequests)
        {
            Remember(id, Refusal($"node {_options.NodeId} already waits on {MaxOpenRequests} ring change requests; retry later", retryable: true));
        }
        else if (_view.State is not { } ring)
        {
            Remember(id, Refusal($"node {_options.NodeId} does not know the ring yet", retryable: true));
        }
        else if (ring.Claimant == _options.NodeId)
        {
            RingChangeReply reply = Decide(request);
            Remember(id, Outcome(reply));
        }
        else if (ClaimantDown(ring))
        {
            Remember(id, Refusal(ClaimantDownError(ring.Claimant), retryable: true));
        }
        else
        {
            _tickets.Add(id, Deadline());
            _outbox.Send(ring.Claimant, request);
        }
        return id;
    }

    /// <summary>The outcome of a ticket from <see cref="Request"/>; null while it is pending (or unknown).</summary>
    public RingChangeOutcome? Outcome(long ticket) => _outcomes.GetValueOrDefault(ticket);

    public bool IsPending(long ticket) => _tickets.ContainsKey(ticket);

    public void OnRequest(int fromNode, RingChangeRequest request)
    {
        if (_view.State is not { } ring)
        {
            _outbox.Send(fromNode, Reply(request.RequestId, Refusal($"node {_options.NodeId} does not know the ring yet", retryable: true)));
        }
        else if (ring.Claimant == _options.NodeId)
        {
            _outbox.Send(fromNode, Decide(request));
        }
        else if (ClaimantDown(ring) || _tickets.Count + _relays.Count >= MaxOpenRequests)
        {
            string why = ClaimantDown(ring) ? ClaimantDownError(ring.Claimant) : $"node {_options.NodeId} relays {MaxOpenRequests} requests already; retry later";
            _outbox.Send(fromNode, Reply(request.RequestId, Refusal(why, retryable: true)));
        }
        else
        {
            long id = _nextRequestId++;
            _relays.Add(id, (fromNode, request.RequestId, Deadline()));
            _outbox.Send(ring.Claimant, request with { RequestId = id });
        }
    }

    public void OnReply(int fromNode, RingChangeReply reply)
    {
        if (_relays.Remove(reply.RequestId, out var relay))
        {
            _outbox.Send(relay.Origin, reply with { RequestId = relay.OriginId });
            return;
        }
        if (!_tickets.Remove(reply.RequestId)) return; // late, duplicated, or for an earlier incarnation
        Remember(reply.RequestId, Outcome(reply));
        if (reply.RequestId == _joinTicket && !reply.Ok && !reply.Conflict && !reply.Retryable && !_view.IsMember)
        {
            JoinRefused = reply.Error;
        }
    }

    /// <summary>Claimant: a pending replica verified it holds a partition of the running change.</summary>
    public void OnTransferDone(int fromNode, TransferDone done)
    {
        if (_view.State is not { } ring || ring.Claimant != _options.NodeId) return;
        if (ring.Change is not { } change || change.Kind != done.ChangeKind || change.Node != done.ChangeNode) return; // an earlier change
        if (done.Partition >= ring.PartitionCount || Array.IndexOf(ring.PendingReplicas(done.Partition), fromNode) < 0) return;
        if (ring.Done.Contains((done.Partition, fromNode))) return;
        Publish(RingTransitions.MarkTransferred(ring, done.Partition, fromNode), ring);
    }

    public void OnTimer()
    {
        long now = _clock.NowMicros;
        ExpireTickets(now);
        if (_joinSeed is { } seed && !_view.IsMember && !_served && JoinRefused is null && !_tickets.ContainsKey(_joinTicket) && HoldsNoData())
        {
            // Until the ring names this node: ask the seed (it relays to the claimant), one request at a time.
            // A joiner whose join was abandoned (RingTransitions.Abort) asks again once it holds no data.
            _joinTicket = _nextRequestId++;
            _tickets.Add(_joinTicket, Deadline());
            _outbox.Send(seed, new RingChangeRequest(_joinTicket, RingChangeKind.Join, _options.NodeId, false,
                MyAddress, _view.PartitionCount, _view.ReplicationFactor));
        }
        if (_view.State is { } ring && ring.Claimant == _options.NodeId && ring.Change is not null && ring.PendingTransfers().Count == 0)
        {
            Publish(RingTransitions.Complete(ring), ring);
        }
        Start();
    }

    private void ExpireTickets(long now)
    {
        List<long>? expired = null;
        foreach (var (id, deadline) in _tickets)
        {
            if (deadline <= now) (expired ??= []).Add(id);
        }
        foreach (var (id, relay) in _relays)
        {
            if (relay.DeadlineMicros <= now) (expired ??= []).Add(id);
        }
        if (expired is null) return;
        foreach (long id in expired)
        {
            if (_relays.Remove(id)) continue; // the origin's own ticket expires on its side
            _tickets.Remove(id);
            string claimant = _view.State is { } ring ? $"claimant node {ring.Claimant}" : "the seed";
            Remember(id, Refusal($"{claimant} did not answer within {RequestTimeoutMs} ms; retry", retryable: true));
        }
    }

    /// <summary>The claimant's decision on a request: the next state is adopted and published here.</summary>
    private RingChangeReply Decide(RingChangeRequest request)
    {
        RingState ring = _view.State!;
        if (request.Change == RingChangeKind.Join)
        {
            if (request.PartitionCount != ring.PartitionCount || request.ReplicationFactor != ring.ReplicationFactor)
            {
                return Reply(request.RequestId, Refusal(
                    $"node {request.Node} is configured with Q={request.PartitionCount} N={request.ReplicationFactor}, the ring has Q={ring.PartitionCount} N={ring.ReplicationFactor}"));
            }
            if (ring.MemberOf(request.Node) is { Status: MemberStatus.Joining } joining && joining.PeerAddress == request.PeerAddress)
            {
                return new RingChangeReply(request.RequestId, true, false, ring.Version, ""); // a retried join that was accepted
            }
        }
        if (ring.Change is { } running && running.Kind == request.Change && running.Node == request.Node && request.Change != RingChangeKind.Join)
        {
            return new RingChangeReply(request.RequestId, true, false, ring.Version, ""); // the same departure, asked again
        }
        if (request.Change == RingChangeKind.Remove && ring.Change is not null && _detector.IsDown(request.Node)
            && ring.PendingTransfers().Exists(t => t.Node == request.Node))
        {
            // The running change waits for a dead node that is now being removed: it could never finish.
            // Abandon it (safe: see RingTransitions.Abort) and remove the dead node instead.
            ring = RingTransitions.Abort(ring);
            if (ring.MemberOf(request.Node) is null)
            {
                Publish(ring, _view.State!); // the dead node was the joiner: abandoning its join removes it
                return new RingChangeReply(request.RequestId, true, false, ring.Version, "");
            }
        }
        RingProposal proposal = RingTransitions.Propose(ring, new RingChange(request.Change, request.Node), request.PeerAddress,
            request.Force, node => !_detector.IsDown(node));
        if (proposal.Next is not { } next) return Reply(request.RequestId, new RingChangeOutcome(false, proposal.Conflict, ring.Version, proposal.Error));
        Publish(next, _view.State!);
        return new RingChangeReply(request.RequestId, true, false, next.Version, "");
    }

    private static RingChangeReply Reply(long requestId, RingChangeOutcome outcome)
    {
        string error = outcome.Error ?? "";
        if (error.Length > RingChangeReply.MaxErrorChars) error = error[..RingChangeReply.MaxErrorChars];
        return new RingChangeReply(requestId, outcome.Ok, outcome.Conflict, outcome.Version, error, outcome.Retryable);
    }

    private static RingChangeOutcome Outcome(RingChangeReply reply) =>
        new(reply.Ok, reply.Conflict, reply.Version, reply.Ok ? null : reply.Error, reply.Retryable);

    private RingChangeOutcome Refusal(string error, bool retryable = false) => new(false, false, _view.Version, error, retryable);

    /// <summary>Only a member hears heartbeats: outside the ring (a joiner not admitted yet) the claimant is trusted and the request times out if it is gone.</summary>
    private bool ClaimantDown(RingState ring) => _view.IsMember && _detector.IsDown(ring.Claimant);

    private static string ClaimantDownError(int claimant) =>
        $"claimant node {claimant} is down; ring changes wait until it is back (see docs/membership.md)";

    private string MyAddress => _options.PeerAddress ?? $"node-{_options.NodeId}";

    private long RequestTimeoutMs => 5 * _options.RequestTimeoutMs;

    private long Deadline() => _clock.NowMicros + TimeUnits.MsToMicros(RequestTimeoutMs);

    private void Remember(long id, RingChangeOutcome outcome)
    {
        _outcomes[id] = outcome;
        _outcomeOrder.Enqueue(id);
        while (_outcomeOrder.Count > MaxRememberedOutcomes) _outcomes.Remove(_outcomeOrder.Dequeue());
    }

    /// <summary>Runs after every event: the deep part and the messages live in other methods, so this frame stays small (issue 11).</summary>
    public void CheckInvariants(bool deep)
    {
        if (_tickets.Count + _relays.Count > MaxOpenRequests + 1) ThrowOpen(_tickets.Count, _relays.Count);
        if (_outcomes.Count > MaxRememberedOutcomes) ThrowOutcomes(_outcomes.Count);
        if ((_view.State is null) != (_encoded is null)) throw new InvalidOperationException("ring state and its encoding disagree");
        if (deep && _view.State is not null) CheckRingEncoding();

        static void ThrowOpen(int tickets, int relays) => throw new InvalidOperationException($"{tickets} tickets and {relays} relays open");
        static void ThrowOutcomes(int outcomes) => throw new InvalidOperationException($"{outcomes} outcomes remembered");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckRingEncoding()
    {
        RingState ring = _view.State!;
        ring.CheckInvariants();
        if (!RingStateCodec.Encode(ring).AsSpan().SequenceEqual(_encoded)) throw new InvalidOperationException("cached ring encoding is stale");
    }
}

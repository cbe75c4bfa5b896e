using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Membership;

/// <summary>
/// The gossip room: every interval this node sends its ring version to one random peer the failure
/// detector trusts (push-pull: the newer side then sends its whole state), so every node converges on
/// the ring that supersedes all others (<see cref="RingState.Supersedes"/>). A state that fails its
/// codec checks is dropped and counted; one that supersedes ours goes to the membership room to adopt.
/// A joining node that has no ring yet gossips with its seed.
/// </summary>
internal sealed class RingGossip
{
    private readonly int _self;
    private readonly long _intervalMicros;
    private readonly RingView _view;
    private readonly MembershipRoom _membership;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IRandom _random;
    private readonly FailureDetector _detector;
    private readonly int? _seed;
    private long _round;

    public RingGossip(NodeOptions options, RingView view, MembershipRoom membership, Outbox outbox, IScheduler scheduler,
        IRandom random, FailureDetector detector, int? seed)
    {
        _self = options.NodeId;
        _intervalMicros = TimeUnits.MsToMicros(options.GossipIntervalMs);
        _view = view;
        _membership = membership;
        _outbox = outbox;
        _scheduler = scheduler;
        _random = random;
        _detector = detector;
        _seed = seed;
    }

    public long StatesRejected { get; private set; }

    /// <summary>When this node last pushed its state to a peer whose heartbeat showed an older ring (micros).</summary>
    private readonly Dictionary<int, long> _lastPushMicros = new();

    /// <summary>
    /// A heartbeat showed the peer's ring version: if it is older than ours, push our state at once (at most
    /// once per gossip interval per peer) instead of waiting for a gossip round to pick it. A node that missed
    /// the state removing it is suspected by everyone and coordinates with a stale ring until it learns
    /// (simulator seed 93 with --joiners 3); this bounds that window by a heartbeat interval.
    /// </summary>
    public void OnPeerVersion(int fromNode, long version, long nowMicros)
    {
        if (fromNode == _self || _membership.Encoded is not { } encoded || version >= _view.Version) return;
        if (_lastPushMicros.TryGetValue(fromNode, out long last) && nowMicros - last < _intervalMicros) return;
        if (_lastPushMicros.Count >= Limits.MaxNodes && !_lastPushMicros.ContainsKey(fromNode)) _lastPushMicros.Clear();
        _lastPushMicros[fromNode] = nowMicros;
        _outbox.Send(fromNode, new RingStateMessage(encoded));
    }

    public void Start() => _scheduler.StartTimer(new TimerId(TimerOwner.Gossip, _round), _intervalMicros);

    public void OnTimer()
    {
        int peer = _view.State is null ? _seed ?? -1 : PickPeer();
        if (peer >= 0) _outbox.Send(peer, Digest());
        _round++;
        Start();
    }

    /// <summary>No ring yet: version 0, which every state supersedes.</summary>
    private RingDigest Digest() => _view.State is { } ring ? new RingDigest(ring.Version, ring.Claimant) : new RingDigest(0, int.MaxValue);

    public void OnDigest(int fromNode, RingDigest digest)
    {
        if (fromNode == _self) return;
        RingDigest mine = Digest();
        if (RingState.Supersedes(digest.Version, digest.Claimant, mine.Version, mine.Claimant))
        {
            _outbox.Send(fromNode, mine); // pull: they answer with their state
        }
        else if (_membership.Encoded is { } encoded && RingState.Supersedes(mine.Version, mine.Claimant, digest.Version, digest.Claimant))
        {
            _outbox.Send(fromNode, new RingStateMessage(encoded));
        }
    }

    public void OnState(int fromNode, RingStateMessage message)
    {
        RingState candidate;
        try
        {
            candidate = RingStateCodec.Decode(message.State);
        }
        catch (ProtocolException)
        {
            StatesRejected++;
            return;
        }
        _membership.Adopt(candidate, message.State);
    }

    /// <summary>
    /// A peer of the ring the detector trusts, uniformly at random; when it trusts none, any other member.
    /// A node outside the ring gets no heartbeats (members send them only to members), and neither does a
    /// member that missed the state removing it (simulator seed 93 with --joiners 3: a leaving node lost the
    /// claimant's last push, suspected everyone, and never learnt it had left): asking someone is how it learns.
    /// -1 when the ring has no other member.
    /// </summary>
    private bool Trusted(int node) => !_view.IsMember || !_detector.IsDown(node);

    private int PickPeer()
    {
        IReadOnlyList<Member> members = _view.State!.Members;
        // Trust is decided once per member: the detector reads the clock, and in real mode a peer can cross
        // the phi threshold between two passes, which made the second pass run past the count of the first
        // (nemesis seed 1, session 9: a node stopped with "ran past the candidates").
        Span<int> trustedPeers = stackalloc int[members.Count];
        Span<int> otherPeers = stackalloc int[members.Count];
        int trusted = 0, others = 0;
        foreach (Member m in members)
        {
            if (m.NodeId == _self) continue;
            otherPeers[others++] = m.NodeId;
            if (Trusted(m.NodeId)) trustedPeers[trusted++] = m.NodeId;
        }
        if (others == 0) return -1;
        return trusted == 0 ? otherPeers[_random.NextInt(others)] : trustedPeers[_random.NextInt(trusted)];
    }
}

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
    /// A peer of the ring the detector trusts, uniformly at random; -1 when there is none. A node outside
    /// the ring gets no heartbeats (members send them only to members), so it trusts every member.
    /// </summary>
    private bool Trusted(int node) => !_view.IsMember || !_detector.IsDown(node);

    private int PickPeer()
    {
        IReadOnlyList<Member> members = _view.State!.Members;
        int candidates = 0;
        foreach (Member m in members)
        {
            if (m.NodeId != _self && Trusted(m.NodeId)) candidates++;
        }
        if (candidates == 0) return -1;
        int pick = _random.NextInt(candidates);
        foreach (Member m in members)
        {
            if (m.NodeId == _self || !Trusted(m.NodeId)) continue;
            if (pick-- == 0) return m.NodeId;
        }
        throw new InvalidOperationException("gossip peer choice ran past the candidates");
    }
}

using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Membership;

/// <summary>
/// The gossip room: every interval this node sends its ring version to one random peer the failure
/// detector trusts (push-pull: the newer side then sends its whole state), so every node converges on
/// the ring that supersedes all others (<see cref="RingState.Supersedes"/>). A state that fails its
/// codec checks is dropped and counted.
///
/// Until partition transfers exist (docs/membership.md) a node serves exactly the layout it was started
/// with, so it adopts only states with that same current layout and no change in progress; any other is
/// counted in <see cref="Mismatches"/> (in real mode: members started with different --peers lists).
/// </summary>
internal sealed class RingGossip
{
    private readonly int _self;
    private readonly long _intervalMicros;
    private readonly ReplicaPlacement _placement;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IRandom _random;
    private readonly FailureDetector _detector;
    private RingState _ring;
    private byte[] _encoded;
    private long _round;

    public RingGossip(NodeOptions options, ReplicaPlacement placement, RingState ring, Outbox outbox, IScheduler scheduler, IRandom random, FailureDetector detector)
    {
        _self = options.NodeId;
        _intervalMicros = TimeUnits.MsToMicros(options.GossipIntervalMs);
        _placement = placement;
        _outbox = outbox;
        _scheduler = scheduler;
        _random = random;
        _detector = detector;
        if (!Serves(ring)) throw new ArgumentException("the ring state's current layout is not the layout this node serves", nameof(ring));
        if (ring.MemberOf(_self) is null) throw new ArgumentException($"node {_self} is not a member of its ring state", nameof(ring));
        _ring = ring;
        _encoded = RingStateCodec.Encode(ring);
    }

    public RingState Ring => _ring;
    public long StatesAdopted { get; private set; }
    public long StatesRejected { get; private set; }
    public long Mismatches { get; private set; }

    public void Start() => _scheduler.StartTimer(new TimerId(TimerOwner.Gossip, _round), _intervalMicros);

    public void OnTimer()
    {
        int peer = PickPeer();
        if (peer >= 0) _outbox.Send(peer, new RingDigest(_ring.Version, _ring.Claimant));
        _round++;
        Start();
    }

    public void OnDigest(int fromNode, RingDigest digest)
    {
        if (fromNode == _self || _ring.MemberOf(fromNode) is null) return;
        if (RingState.Supersedes(digest.Version, digest.Claimant, _ring.Version, _ring.Claimant))
        {
            _outbox.Send(fromNode, new RingDigest(_ring.Version, _ring.Claimant)); // pull: they answer with their state
        }
        else if (RingState.Supersedes(_ring.Version, _ring.Claimant, digest.Version, digest.Claimant))
        {
            _outbox.Send(fromNode, new RingStateMessage(_encoded));
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
        if (!candidate.Supersedes(_ring)) return;
        if (!Serves(candidate) || candidate.MemberOf(_self) is null)
        {
            Mismatches++;
            return;
        }
        _ring = candidate;
        _encoded = message.State;
        StatesAdopted++;
    }

    /// <summary>A peer of the ring the detector trusts, uniformly at random; -1 when there is none.</summary>
    private int PickPeer()
    {
        IReadOnlyList<Member> members = _ring.Members;
        int candidates = 0;
        foreach (Member m in members)
        {
            if (m.NodeId != _self && !_detector.IsDown(m.NodeId)) candidates++;
        }
        if (candidates == 0) return -1;
        int pick = _random.NextInt(candidates);
        foreach (Member m in members)
        {
            if (m.NodeId == _self || _detector.IsDown(m.NodeId)) continue;
            if (pick-- == 0) return m.NodeId;
        }
        throw new InvalidOperationException("gossip peer choice ran past the candidates");
    }

    private bool Serves(RingState ring) =>
        ring.Change is null && ring.ReplicationFactor == _placement.ReplicationFactor && ring.Current.Equals(_placement.Layout);

    public void CheckInvariants(bool deep)
    {
        // The ring changes only by adoption, which checks Serves; recomparing Q owners belongs to the deep check.
        if (!deep) return;
        if (!Serves(_ring)) throw new InvalidOperationException($"ring version {_ring.Version} is not the layout this node serves");
        _ring.CheckInvariants();
        if (!RingStateCodec.Encode(_ring).AsSpan().SequenceEqual(_encoded)) throw new InvalidOperationException("cached ring encoding is stale");
    }
}

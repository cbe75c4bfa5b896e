using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Membership;

/// <summary>One peer's view for health pages: its suspicion level and verdict.</summary>
public readonly record struct PeerLiveness(int Node, double Phi, bool Up, long LastHeartbeatMicros);

/// <summary>
/// The failure-detection room: sends every ring member a <see cref="Heartbeat"/> each interval and
/// keeps a <see cref="PhiAccrual"/> detector per peer, fed by the heartbeats that arrive. The
/// coordinator asks it who is down, so it stops waiting on those replicas. Deterministic: time comes
/// from the injected clock, heartbeats from the injected scheduler and transport.
/// </summary>
internal sealed class FailureDetector
{
    private readonly int _self;
    private readonly FailureDetectorOptions _options;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IClock _clock;
    private readonly SortedDictionary<int, PhiAccrual> _peers = new();
    private long _sequence;

    public FailureDetector(NodeOptions options, IEnumerable<int> members, Outbox outbox, IScheduler scheduler, IClock clock)
    {
        _self = options.NodeId;
        _options = options.FailureDetector;
        _outbox = outbox;
        _scheduler = scheduler;
        _clock = clock;
        long intervalMicros = TimeUnits.MsToMicros(_options.HeartbeatIntervalMs);
        long now = clock.NowMicros;
        foreach (int node in members)
        {
            if (node == _self) continue;
            _peers.Add(node, new PhiAccrual(_options.WindowSize, intervalMicros, intervalMicros * _options.MaxSampleIntervals, now));
        }
    }

    public long HeartbeatsSent { get; private set; }

    public void Start() => ScheduleNext();

    public void OnTimer()
    {
        var heartbeat = new Heartbeat(++_sequence);
        foreach (int peer in _peers.Keys) _outbox.Send(peer, heartbeat);
        HeartbeatsSent += _peers.Count;
        ScheduleNext();
    }

    public void OnHeartbeat(int fromNode)
    {
        // A heartbeat from a node outside the ring (or ourselves) says nothing about a replica: ignore it.
        if (_peers.TryGetValue(fromNode, out PhiAccrual? detector)) detector.Heartbeat(_clock.NowMicros);
    }

    /// <summary>True when <paramref name="node"/> is a peer whose phi is above the threshold. This node is never down to itself.</summary>
    public bool IsDown(int node) => _peers.TryGetValue(node, out PhiAccrual? detector) && detector.Phi(_clock.NowMicros) > _options.PhiThreshold;

    public double Phi(int node) => _peers.TryGetValue(node, out PhiAccrual? detector) ? detector.Phi(_clock.NowMicros) : 0;

    public PeerLiveness[] Peers()
    {
        long now = _clock.NowMicros;
        var result = new PeerLiveness[_peers.Count];
        int i = 0;
        foreach (var (node, detector) in _peers)
        {
            double phi = detector.Phi(now);
            result[i++] = new PeerLiveness(node, phi, phi <= _options.PhiThreshold, detector.LastArrivalMicros);
        }
        return result;
    }

    private void ScheduleNext() =>
        _scheduler.StartTimer(new TimerId(TimerOwner.Heartbeat, _sequence), TimeUnits.MsToMicros(_options.HeartbeatIntervalMs));

    public void CheckInvariants(bool deep)
    {
        if (_peers.ContainsKey(_self)) throw new InvalidOperationException($"node {_self} tracks itself as a peer");
        if (!deep) return;
        foreach (PhiAccrual detector in _peers.Values) detector.CheckInvariants();
    }
}

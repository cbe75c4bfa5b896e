using System.Runtime.CompilerServices;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Membership;

/// <summary>One peer's view for health pages: its suspicion level and verdict.</summary>
public readonly record struct PeerLiveness(int Node, double Phi, bool Up, long LastHeartbeatMicros)
{
    /// <summary>What the peer said of itself in its last heartbeat (null: none received).</summary>
    public Heartbeat? Report { get; init; }
}

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
    private readonly Dictionary<int, Heartbeat> _reports = new();
    private long _sequence;

    public FailureDetector(NodeOptions options, IEnumerable<int> members, Outbox outbox, IScheduler scheduler, IClock clock)
    {
        _self = options.NodeId;
        _options = options.FailureDetector;
        _outbox = outbox;
        _scheduler = scheduler;
        _clock = clock;
        SetMembers(members);
    }

    /// <summary>
    /// The ring's members changed: new peers get a fresh detector (trusted until heartbeats stop), departed
    /// ones are forgotten. Peers that stay keep their history.
    /// </summary>
    public void SetMembers(IEnumerable<int> members)
    {
        long intervalMicros = TimeUnits.MsToMicros(_options.HeartbeatIntervalMs);
        long now = _clock.NowMicros;
        var wanted = new SortedSet<int>(members);
        wanted.Remove(_self);
        if (wanted.Count > Limits.MaxNodes) throw new ArgumentException($"{wanted.Count} peers exceed {Limits.MaxNodes}", nameof(members));
        var gone = new List<int>();
        foreach (int node in _peers.Keys)
        {
            if (!wanted.Contains(node)) gone.Add(node);
        }
        foreach (int node in gone)
        {
            _peers.Remove(node);
            _reports.Remove(node);
        }
        foreach (int node in wanted)
        {
            if (!_peers.ContainsKey(node)) _peers.Add(node, new PhiAccrual(_options.WindowSize, intervalMicros, intervalMicros * _options.MaxSampleIntervals, now));
        }
    }

    public long HeartbeatsSent { get; private set; }

    public void Start() => ScheduleNext();

    /// <summary>What this node reports of itself in each heartbeat (set by the node once its rooms exist).</summary>
    public Func<long, Heartbeat> SelfReport { get; set; } = sequence => new Heartbeat(sequence);

    public void OnTimer()
    {
        Heartbeat heartbeat = SelfReport(++_sequence);
        foreach (int peer in _peers.Keys) _outbox.Send(peer, heartbeat);
        HeartbeatsSent += _peers.Count;
        ScheduleNext();
    }

    public void OnHeartbeat(int fromNode, Heartbeat heartbeat)
    {
        // A heartbeat from a node outside the ring (or ourselves) says nothing about a replica: ignore it.
        if (!_peers.TryGetValue(fromNode, out PhiAccrual? detector)) return;
        detector.Heartbeat(_clock.NowMicros);
        _reports[fromNode] = heartbeat;
    }

    /// <summary>True when <paramref name="node"/> is a peer whose phi is above the threshold. This node is never down to itself.</summary>
    public bool IsDown(int node) => _peers.TryGetValue(node, out PhiAccrual? detector) && detector.Phi(_clock.NowMicros) > _options.PhiThreshold;

    /// <summary>A heartbeat from <paramref name="node"/> arrived since it became a peer (a fresh peer is trusted before that).</summary>
    public bool HasHeard(int node) => _reports.ContainsKey(node);

    public double Phi(int node) => _peers.TryGetValue(node, out PhiAccrual? detector) ? detector.Phi(_clock.NowMicros) : 0;

    public PeerLiveness[] Peers()
    {
        long now = _clock.NowMicros;
        var result = new PeerLiveness[_peers.Count];
        int i = 0;
        foreach (var (node, detector) in _peers)
        {
            double phi = detector.Phi(now);
            result[i++] = new PeerLiveness(node, phi, phi <= _options.PhiThreshold, detector.LastArrivalMicros) { Report = _reports.GetValueOrDefault(node) };
        }
        return result;
    }

    private void ScheduleNext() =>
        _scheduler.StartTimer(new TimerId(TimerOwner.Heartbeat, _sequence), TimeUnits.MsToMicros(_options.HeartbeatIntervalMs));

    public void CheckInvariants(bool deep)
    {
        // Deep only: SetMembers, the one place peers are added, removes self first, and this tree lookup
        // after every event was 2.6 % of the native simulator's samples (issue 11).
        if (deep) CheckDeep();
    }

    /// <summary>Its own method: the enumerator and message locals made the per-event call zero its frame (issue 11).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDeep()
    {
        if (_peers.ContainsKey(_self)) throw new InvalidOperationException($"node {_self} tracks itself as a peer");
        foreach (PhiAccrual detector in _peers.Values) detector.CheckInvariants();
    }
}

using System.Runtime.CompilerServices;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Replica;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Membership;

/// <summary>
/// Moves partitions during ring changes, with the anti-entropy machinery (Merkle sessions: bounded
/// memory, resumable after a crash of either side because the trees say what is missing):
/// <list type="bullet">
/// <item>Transfer: a pending replica of a partition runs rounds of sessions with every live current
/// replica until a round pulls nothing (the partition is verifiably here), then tells the claimant
/// (<see cref="TransferDone"/>, repeated until the ring records it).</item>
/// <item>Handoff: a node holding a partition it no longer serves runs push-only rounds with the
/// current replicas until a round pushes nothing, then drops the partition's data.</item>
/// </list>
/// Throttled: a round starts only while the bytes pulled so far stay within StreamBytesPerSecond
/// times the time since streaming began (plus one burst).
/// </summary>
internal sealed class PartitionStreaming : ISessionOwner
{
    public const long TickMs = 200;

    /// <summary>Bytes transfers may pull ahead of their rate: a quarter second's worth, at least 4 KiB.</summary>
    private long BurstBytes => Math.Max(4096, _options.StreamBytesPerSecond / 4);

    /// <summary>Ticks between repeated reports of a verified transfer the ring does not show yet.</summary>
    private const int ReportEveryTicks = 5;

    private readonly int _self;
    private readonly NodeOptions _options;
    private readonly RingView _view;
    private readonly RepairContext _ctx;
    private readonly ReplicaStore _store;
    private readonly FailureDetector _detector;
    private readonly IScheduler _scheduler;
    private readonly IClock _clock;
    private readonly NodeCounters _counters;
    private readonly SortedDictionary<int, Round> _rounds = new();
    private readonly SortedSet<int> _verified = new();
    private readonly SortedSet<int> _handedOff = new();
    private RingChange? _verifiedFor;
    private long _budgetStartMicros;
    private long _budgetBytes;
    private long _ticks;
    private bool _everMember;
    private bool _busy;

    /// <param name="configuredMember">Started as a member of a configured ring (not a joiner): if its saved ring no
    /// longer names it (it left, then crashed before it exited), it still hands off what it holds and departs.</param>
    public PartitionStreaming(NodeOptions options, RingView view, RepairContext context, FailureDetector detector,
        IScheduler scheduler, IClock clock, NodeCounters counters, bool configuredMember)
    {
        _self = options.NodeId;
        _options = options;
        _view = view;
        _ctx = context;
        _store = context.Store;
        _detector = detector;
        _scheduler = scheduler;
        _clock = clock;
        _counters = counters;
        _everMember = configuredMember || Serving(view);
    }

    /// <summary>Sessions of transfers and handoffs running now.</summary>
    public int RunningSessions { get; private set; }

    /// <summary>This node was a member, is not any more, and holds no data: the host may stop it.</summary>
    public bool Departed => _everMember && _view.State is not null && !_view.IsMember && _store.HoldsNothing;

    /// <summary>A normal or leaving member: once one, leaving the ring means departing (a joiner dropped by an aborted change joins again).</summary>
    private static bool Serving(RingView view) => view.State?.MemberOf(view.Self) is { Status: MemberStatus.Normal or MemberStatus.Leaving };

    public void Start() => _scheduler.StartTimer(new TimerId(TimerOwner.Streaming, ++_ticks), TimeUnits.MsToMicros(TickMs));

    public void OnRingChanged()
    {
        _everMember |= Serving(_view);
        RingChange? change = _view.State?.Change;
        if (!Equals(change, _verifiedFor))
        {
            _verified.Clear(); // a new change: its transfers start from nothing
            _verifiedFor = change;
        }
    }

    public void OnTimer()
    {
        if (_view.State is not null)
        {
            // A whole idle tick (nothing running, started or held back) earns no credit: the budget restarts.
            if (_rounds.Count == 0 && !_busy) (_budgetStartMicros, _budgetBytes) = (_clock.NowMicros, 0);
            _busy = false;
            StartTransfers();
            StartHandoffs();
            DropHandedOff();
        }
        Start();
    }

    private void StartTransfers()
    {
        RingState ring = _view.State!;
        if (ring.Change is not { } change) return;
        for (int p = 0; p < ring.PartitionCount; p++)
        {
            if (Array.IndexOf(_view.PendingReplicas(p), _self) < 0 || ring.Done.Contains((p, _self))) continue;
            if (_verified.Contains(p))
            {
                if (_ticks % ReportEveryTicks == 0) _ctx.Outbox.Send(ring.Claimant, new TransferDone(change.Kind, change.Node, p));
                continue;
            }
            if (_rounds.ContainsKey(p) || !CanStartRound() || _store.Trees.Ready(p) is null) continue;
            var sources = new List<int>();
            foreach (int node in ring.CurrentPlacement.PreferenceList(p))
            {
                // Only sources that have been heard from: a joiner's detector trusts a dead member until its
                // phi rises, and each round with it waited MaxAttempts timeouts (membership seed 202).
                if (node != _self && !_detector.IsDown(node) && _detector.HasHeard(node)) sources.Add(node);
            }
            if (sources.Count > 0) StartRound(p, sources, handoff: false);
        }
    }

    private void StartHandoffs()
    {
        RingState ring = _view.State!;
        foreach (int p in _store.Trees.Partitions.ToArray())
        {
            if (_view.Serves(p) || _rounds.ContainsKey(p) || _handedOff.Contains(p) || !CanStartRound() || _store.Trees.Ready(p) is null) continue;
            var targets = new List<int>();
            bool allUp = true;
            foreach (int node in ring.CurrentPlacement.PreferenceList(p))
            {
                if (node == _self) continue;
                if (_view.IsMember && _detector.IsDown(node)) allUp = false; // outside the ring no heartbeats arrive: trust, retry on failure
                targets.Add(node);
            }
            if (allUp && targets.Count > 0) StartRound(p, targets, handoff: true); // every new replica gets what only we hold
        }
    }

    /// <summary>Handed-off partitions go once no disk operation of theirs is in flight (writes to them are refused now).</summary>
    private void DropHandedOff()
    {
        foreach (int p in _handedOff.ToArray())
        {
            if (_view.Serves(p) || !_store.Trees.Tracks(p))
            {
                _handedOff.Remove(p); // served again (a later change), or already gone
                continue;
            }
            if (_store.TryDrop(p)) _handedOff.Remove(p);
        }
    }

    private bool CanStartRound()
    {
        _busy = true; // there is streaming work: this tick is not idle, whatever the answer
        if (_rounds.Count >= _ctx.Options.MaxConcurrentSessions) return false;
        long elapsedMicros = _clock.NowMicros - _budgetStartMicros;
        long allowed = BurstBytes + (long)(Math.Max(0, elapsedMicros) / 1e6 * _options.StreamBytesPerSecond);
        return _budgetBytes <= allowed;
    }

    /// <summary>
    /// A handoff pushes to every new replica at once (each may lack something else). A transfer pulls from
    /// one source after another: in parallel, most keys arrived once per source (2.3x the bytes in
    /// bench/join.sh); one after another, the later sources only add what the first lacked.
    /// </summary>
    private void StartRound(int partition, List<int> peers, bool handoff)
    {
        var round = new Round(partition, handoff, new Queue<int>(peers));
        _rounds.Add(partition, round);
        if (handoff)
        {
            while (round.Waiting.Count > 0) StartSession(round);
        }
        else
        {
            StartSession(round);
        }
    }

    private void StartSession(Round round)
    {
        int peer = round.Waiting.Dequeue();
        // A transfer only pulls: pushing from a pending replica could hand back a value whose delete the
        // current replicas already purged (simulator seed 6, all,membership: a re-joining node's old data).
        var session = new RepairSession(_ctx, round.Partition, peer, this, pushOnly: round.Handoff, pullOnly: !round.Handoff);
        RunningSessions++;
        round.Running++;
        session.Start();
        if (session.Finished) OnSessionFinished(session);
    }

    public void OnSessionFinished(RepairSession session)
    {
        if (!_rounds.TryGetValue(session.Partition, out Round? round)) throw new InvalidOperationException($"no streaming round for partition {session.Partition}");
        RunningSessions--;
        round.Running--;
        round.Failed |= session.State == RepairState.Failed;
        round.Pulled += session.KeysPulled;
        round.Pushed += session.KeysPushed;
        _budgetBytes += session.BytesReceived;
        _counters.StreamBytesReceived += session.BytesReceived;
        _counters.StreamKeysReceived += session.KeysPulled;
        if (round.Running > 0) return;
        if (round.Waiting.Count > 0)
        {
            StartSession(round); // the next source of a transfer
            return;
        }
        _rounds.Remove(session.Partition);
        if (round.Failed) return; // the next tick starts another round
        if (round.Handoff)
        {
            if (round.Pushed == 0 && !_view.Serves(round.Partition)) _handedOff.Add(round.Partition);
            return;
        }
        if (round.Pulled == 0 && _view.State is { Change: { } change } ring && Array.IndexOf(_view.PendingReplicas(round.Partition), _self) >= 0)
        {
            _verified.Add(round.Partition);
            _counters.TransfersVerified++;
            _ctx.Outbox.Send(ring.Claimant, new TransferDone(change.Kind, change.Node, round.Partition));
        }
    }

    public void CheckInvariants(bool deep)
    {
        // Runs after every event: a SortedDictionary enumerator allocates its stack even when empty
        // (16 % of the simulator's allocated bytes, issue 11), and there is nothing to walk most of the
        // time. The walk and the messages live in other methods: their locals made this frame cost ~60
        // instructions per call (callgrind).
        int running = _rounds.Count > 0 ? CountRunningInRounds() : 0;
        if (running != RunningSessions) ThrowMiscounted(RunningSessions, running);
        if (_rounds.Count > _ctx.Options.MaxConcurrentSessions) ThrowTooMany(_rounds.Count);

        static void ThrowMiscounted(int counted, int inRounds) => throw new InvalidOperationException($"{counted} streaming sessions counted, {inRounds} in rounds");
        static void ThrowTooMany(int rounds) => throw new InvalidOperationException($"{rounds} streaming rounds exceed the limit");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int CountRunningInRounds()
    {
        int running = 0;
        foreach (Round round in _rounds.Values)
        {
            if (round.Running <= 0) throw new InvalidOperationException($"streaming round of partition {round.Partition} has no running session");
            running += round.Running;
        }
        return running;
    }

    private sealed class Round(int partition, bool handoff, Queue<int> waiting)
    {
        public int Partition { get; } = partition;
        public bool Handoff { get; } = handoff;
        public Queue<int> Waiting { get; } = waiting;
        public int Running { get; set; }
        public bool Failed { get; set; }
        public long Pulled { get; set; }
        public long Pushed { get; set; }
    }
}

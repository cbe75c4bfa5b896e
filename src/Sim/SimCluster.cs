using System.Diagnostics;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;

namespace Meteora.Sim;

/// <summary>
/// A whole cluster in one thread: K engine nodes, a simulated network and disk, a nemesis, a client
/// workload, one event queue ordered by (virtual time, sequence). A run is a pure function of
/// (seed, options, schedule). Phases: workload under faults → heal everything → drain → one R=N read
/// of every written key (read repair) → drain → check invariants.
/// </summary>
public sealed class SimCluster
{
    /// <summary>Virtual time starts at 2026-01-01T00:00:00Z so versions look like real timestamps.</summary>
    public const long EpochMicros = 1_767_225_600_000_000;

    /// <summary>Hard stop against runaway runs; a healthy 100k-op run needs about a million events.</summary>
    public const long MaxEvents = 500_000_000;

    private readonly SimEventQueue _queue;

    /// <summary>Decoded keys reused across deliveries (one string per hot key, not one per message).</summary>
    private readonly KeyInterner _keys = new();
    private readonly SimRandom _disk;
    private readonly TraceHash _hash = new();
    private readonly TextWriter? _trace;
    private long _sequence;
    private long _events;
    private long _invariantChecks;
    private readonly long[] _eventsByNode;

    public SimCluster(ulong seed, SimOptions options, TextWriter? trace = null, Schedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Seed = seed;
        Options = options;
        _trace = trace;
        // Request timers, one per client request, all set RequestTimeoutMs ahead: the queue's in-order lane.
        _queue = new SimEventQueue(laneMinDelayMicros: options.RequestTimeoutMs * 1000L / 2);
        Schedule = schedule ?? ScheduleGenerator.Generate(seed, options);
        Schedule.Validate(options);
        _disk = SimRandom.Stream(seed, "disk");
        NowMicros = EpochMicros;

        Placement = new ReplicaPlacement(RingLayout.Create(options.Partitions, Enumerable.Range(0, options.Nodes)), options.ReplicationFactor);
        History = new History(Schedule.Ops.Count);
        Network = new SimNetwork(this, SimRandom.Stream(seed, "network"));
        _frames = new SimFrames(pooled: true);
        AckOracle = new AckOracle(this, PlannedWrites(Schedule), options.ReplicationFactor);
        HintOracle = new HintOracle(this);
        Purges = new PurgeLog();
        Nemesis = new Nemesis(this, Schedule.Faults);
        Buggify = new SimBuggify(Schedule.BuggifySites, SimRandom.Stream(seed, "buggify"), options.BuggifyFireProbability);
        Workload = new Workload(this, SimRandom.Stream(seed, "workload"), Schedule.Ops);
        Knobs = SimKnobs.Create(seed, options);
        Operator = new SimOperator(this);
        Nodes = new SimNode[options.TotalNodes];
        _eventsByNode = new long[options.TotalNodes];
        for (int i = 0; i < options.TotalNodes; i++)
        {
            var nodeOptions = new NodeOptions
            {
                NodeId = i,
                ReplicationFactor = options.ReplicationFactor,
                RequestTimeoutMs = options.RequestTimeoutMs,
                PlantedBugs = options.Plant,
                Repair = Knobs.Repair,
                BuggifyDelayMs = Knobs.BuggifyDelayMs,
                FailureDetector = Knobs.Detector,
                GossipIntervalMs = Knobs.GossipIntervalMs,
                StreamBytesPerSecond = Knobs.StreamBytesPerSecond,
                Hints = Knobs.Hints,
            };
            Nodes[i] = new SimNode(this, nodeOptions, Placement, spare: i >= options.Nodes);
        }
    }

    private static int PlannedWrites(Schedule schedule)
    {
        int writes = 0;
        foreach (PlannedOp op in schedule.Ops)
        {
            if (op.Operation != ClientOperation.Get) writes++;
        }
        return writes;
    }

    public ulong Seed { get; }
    public SimOptions Options { get; }
    public Schedule Schedule { get; }
    public ReplicaPlacement Placement { get; }

    /// <summary>The engine limits and timeouts of this run (drawn from the seed unless --knobs default).</summary>
    public SimKnobs Knobs { get; }
    public History History { get; }
    public long NowMicros { get; private set; }
    public long Events => _events;

    /// <summary>Virtual time at which the nemesis healed every fault.</summary>
    public long HealedAtMicros { get; private set; }

    internal SimNode[] Nodes { get; }
    internal SimOperator Operator { get; }

    /// <summary>The highest ring version any node has adopted, and the virtual time it first appeared (when the last change step happened).</summary>
    internal long NewestRingVersion { get; private set; }
    internal long NewestRingAtMicros { get; private set; }

    /// <summary>Nodes a membership fault killed for good (disk lost) and had removed from the ring.</summary>
    internal SortedSet<int> RemovedNodes { get; } = [];

    /// <summary>Nodes that left the ring and exited after handing off their data.</summary>
    internal SortedSet<int> DepartedNodes { get; } = [];

    /// <summary>The newest ring any running node holds (the initial one before any change).</summary>
    internal Meteora.Engine.Membership.RingState? NewestRing()
    {
        Meteora.Engine.Membership.RingState? newest = null;
        foreach (SimNode node in Nodes)
        {
            if (node.Up && node.Engine.Ring is { } ring && (newest is null || ring.Supersedes(newest))) newest = ring;
        }
        return newest;
    }

    /// <summary>The placement of the newest ring: whose replicas the final checks read.</summary>
    internal ReplicaPlacement FinalPlacement => NewestRing()?.CurrentPlacement ?? Placement;

    /// <summary>A running member of the newest ring other than <paramref name="except"/>, lowest id first; -1 if none.</summary>
    internal int AnyUpMember(int except)
    {
        var ring = NewestRing();
        foreach (SimNode node in Nodes)
        {
            if (node.Up && node.Id != except && ring?.MemberOf(node.Id) is not null) return node.Id;
        }
        return -1;
    }
    internal Workload Workload { get; }
    internal Nemesis Nemesis { get; }
    internal SimNetwork Network { get; }

    /// <summary>Buffers of frames in flight; tests swap in an unpooled one before <see cref="Run"/> to check that pooling changes nothing.</summary>
    internal SimFrames Frames
    {
        get => _frames;
        set
        {
            // A frame goes back to the pool that gave it: swapping pools with frames in flight would break that.
            if (_events > 0) throw new InvalidOperationException("frame buffers can only be swapped before the run starts");
            _frames = value ?? throw new ArgumentNullException(nameof(value));
        }
    }

    private SimFrames _frames;
    internal AckOracle AckOracle { get; }
    internal HintOracle HintOracle { get; }
    internal PurgeLog Purges { get; }
    internal SimBuggify Buggify { get; }
    internal SimRandom DiskRandom => _disk;
    internal bool Tracing => _trace is not null;

    /// <summary>Records messages and faults for <c>--timeline</c>; observes only, so the trace hash is the same with or without it.</summary>
    public Timeline.TimelineRecorder? Timeline { get; init; }

    /// <summary>Every this many events a node handles (a power of two), its invariant check also runs the costly parts.</summary>
    private const int DeepCheckEveryEvents = 1024;

    /// <summary>
    /// Runs the invariant checks of the node that just handled an event (TigerBeetle checks its replica
    /// after every message; the other nodes' state did not change, so checking them again would only
    /// repeat the same answer). A violated invariant ends the run as a failure naming the node and time.
    /// </summary>
    internal void CheckInvariants(int node)
    {
        SimNode target = Nodes[node];
        if (!target.Up) return;
        if (target.Engine.Ring is { } ring && ring.Version > NewestRingVersion) (NewestRingVersion, NewestRingAtMicros) = (ring.Version, NowMicros);
        if (target.Engine.Departed)
        {
            // The process of a node that left exits 0 once it has handed off everything (real mode does the same).
            DepartedNodes.Add(node);
            target.Retire();
            return;
        }
        _invariantChecks++;
        bool deep = (++_eventsByNode[node] & (DeepCheckEveryEvents - 1)) == 0;
        try
        {
            target.Engine.CheckInvariants(deep);
        }
        catch (InvalidOperationException e)
        {
            throw Violated(node, e);
        }
    }

    /// <summary>Its own method: the message's locals made every <see cref="CheckInvariants(int)"/> call zero its frame (issue 11).</summary>
    private InvariantViolationException Violated(int node, InvalidOperationException e) =>
        new(node, $"invariant: node{node} at {(NowMicros - EpochMicros) / 1000.0:F3}ms after event {_events}: {e.Message}", e);

    public SimResult Run()
    {
        long wallStart = Stopwatch.GetTimestamp();
        try
        {
            return RunPhases(wallStart);
        }
        catch (InvariantViolationException e)
        {
            return new SimResult(Seed, false, _hash.ToString(), _events, (NowMicros - EpochMicros) / 1000,
                (long)Stopwatch.GetElapsedTime(wallStart).TotalMilliseconds, 0, 0, [new Violation(ViolationKind.Invariant, e.Message, [], [e.Node])])
            {
                InvariantChecks = _invariantChecks,
                Knobs = Knobs,
            };
        }
    }

    private SimResult RunPhases(long wallStart)
    {
        Workload.Start();
        Nemesis.Start();
        RunUntil(() => Workload.PlanDone, long.MaxValue);

        // Heal, then let anti-entropy alone make the replicas equal (no read-everything pass).
        HealedAtMicros = NowMicros;
        Nemesis.HealAll();
        Buggify.Active = false;
        long deadlineMs = ConvergenceDeadlineMs;
        long deadline = NowMicros + deadlineMs * 1000;
        bool converged = RunUntil(ReplicasAgree, deadline, checkEveryMicros: 10_000);
        ConvergedAtMicros = converged ? NowMicros : null;
        var violations = new List<Violation>();
        if (!converged && HintsUndelivered() is { } held)
        {
            violations.Add(new Violation(ViolationKind.Handoff, $"handoff: hints not delivered {deadlineMs} ms after healing: {held}", [], []));
        }
        else if (!converged && RingUnsettled() is { } unsettled)
        {
            violations.Add(new Violation(ViolationKind.Convergence,
                $"membership: the ring did not settle {deadlineMs} ms after healing: {unsettled}", [], []));
        }
        else if (!converged)
        {
            List<int> disagreeing = DisagreeingPartitions();
            violations.Add(new Violation(ViolationKind.Convergence,
                $"convergence: replicas still differ {deadlineMs} ms after healing ({disagreeing.Count} partitions){DescribeDisagreement(disagreeing)}", [], []));
        }
        SimChecks.CheckFinalState(this, violations);

        // Liveness: after healing, every written key reads at R=N within the request timeout. Reads start once
        // no running node suspects another: a coordinator fails a request at once on a replica its detector
        // suspects, and a node restarted just before healing stays suspected until its heartbeats arrive
        // (found by ScheduleProperties with FsCheck seed (13833217037207240152,3904577411289393881,37)).
        RunUntil(DetectorsTrustRunningNodes, NowMicros + Options.ConvergenceDeadlineMs * 1000, checkEveryMicros: 10_000);
        SortedSet<string> writtenKeys = Checker.WrittenKeys(History.Operations);
        Workload.StartQuiescenceReads(writtenKeys);
        RunUntil(() => Workload.InFlight == 0, long.MaxValue);
        // Let stray repairs, acks and disk writes finish before the quiescence check.
        RunUntil(() => false, NowMicros + 2 * Math.Max(Options.RequestTimeoutMs, Options.AntiEntropyIntervalMs) * 1000);

        CheckReport report = SimChecks.Check(this, violations);
        int opsOk = 0, opsFailed = 0;
        foreach (OpRecord op in History.Operations)
        {
            if (op.Quiescence) continue;
            if (op.Status is ClientStatus.Ok or ClientStatus.NotFound) opsOk++;
            else opsFailed++;
        }
        long wallMs = (long)Stopwatch.GetElapsedTime(wallStart).TotalMilliseconds;
        return new SimResult(Seed, report.Violations.Count == 0, _hash.ToString(), _events,
            (NowMicros - EpochMicros) / 1000, wallMs, opsOk, opsFailed, report.Violations)
        {
            SkewDiscardedWrites = report.SkewDiscardedWrites,
            ConvergenceMs = ConvergedAtMicros is { } at ? (at - HealedAtMicros) / 1000 : null,
            TombstonesPurged = Purges.Count,
            InvariantChecks = _invariantChecks,
            Knobs = Knobs,
            Hints = HintOracle.Figures,
        };
    }

    /// <summary>
    /// How long after healing replicas (and, with membership faults, the ring) must settle. Membership runs
    /// get a minute more: removing a dead node waits until the claimant's detector suspects it, which with
    /// drawn knobs (1 s heartbeats, phi threshold 16) takes about 40 s, and only then can a change that
    /// waits on that node be abandoned (membership seed 202).
    /// </summary>
    private long ConvergenceDeadlineMs =>
        Options.ConvergenceDeadlineMs + ((Options.Faults & FaultKinds.Membership) != 0 ? 60_000 : 0);

    /// <summary>Virtual time at which every partition's replicas had equal Merkle roots (null: never).</summary>
    public long? ConvergedAtMicros { get; private set; }

    /// <summary>
    /// True when the ring has settled (no change running or requested, every running member holds the
    /// same version, departed nodes have exited) and, for every partition of that ring, every replica
    /// has built its tree and all roots are equal.
    /// </summary>
    internal bool ReplicasAgree() => RingUnsettled() is null && HintsUndelivered() is null && DisagreeingPartitions().Count == 0;

    /// <summary>A running node that still holds hints (each must be delivered, or dropped and counted, once the cluster healed); null: none.</summary>
    internal string? HintsUndelivered()
    {
        foreach (SimNode node in Nodes)
        {
            if (!node.Up || node.Engine.HintsPending == 0) continue;
            var stats = node.Engine.HintStats();
            return $"node{node.Id} holds {stats.Pending} hints ({string.Join(", ", stats.PerTarget.Where(t => t.Pending > 0).Select(t => $"{t.Pending} for node{t.Target}"))})";
        }
        return null;
    }

    /// <summary>True when no running node's failure detector suspects another running node.</summary>
    private bool DetectorsTrustRunningNodes()
    {
        foreach (SimNode node in Nodes)
        {
            if (!node.Up) continue;
            foreach (SimNode peer in Nodes)
            {
                if (peer.Up && peer.Id != node.Id && node.Engine.IsPeerDown(peer.Id)) return false;
            }
        }
        return true;
    }

    /// <summary>Why the ring has not settled yet (null: it has).</summary>
    internal string? RingUnsettled()
    {
        var ring = NewestRing();
        if (ring is null) return "no running node holds a ring";
        if (ring.Change is { } change) return $"the {change} is still running at ring version {ring.Version} ({ring.PendingTransfers().Count} transfers pending)";
        if (Operator.Pending > 0) return $"{Operator.Pending} operator requests are still being retried";
        foreach (SimNode node in Nodes)
        {
            if (!node.Up) continue;
            if (node.Engine.Ring is not { } held || held.Version != ring.Version || held.Claimant != ring.Claimant)
            {
                return $"node{node.Id} holds ring version {node.Engine.Ring?.Version ?? 0}, newest is {ring.Version} (versions: {string.Join(' ', Nodes.Where(n => n.Up).Select(n => $"node{n.Id}=v{n.Engine.Ring?.Version ?? 0}{(ring.MemberOf(n.Id) is null ? "(out)" : "")}"))})";
            }
            if (ring.MemberOf(node.Id) is null) return $"node{node.Id} is not in the ring but has not handed off and exited ({node.Engine.PartitionsHeld} partitions held)";
            for (int p = 0; p < ring.PartitionCount; p++)
            {
                if (node.Storage.CountInPartition(p) > 0 && !ring.CurrentPlacement.IsReplica(p, node.Id))
                {
                    return $"node{node.Id} has not handed off and dropped partition {p} yet";
                }
            }
        }
        return null;
    }

    /// <summary>Partitions where some replica is down, has not built its tree, or has a different root.</summary>
    private List<int> DisagreeingPartitions()
    {
        var disagreeing = new List<int>();
        ReplicaPlacement placement = FinalPlacement;
        for (int p = 0; p < placement.PartitionCount; p++)
        {
            UInt128? first = null;
            foreach (int replica in placement.PreferenceList(p))
            {
                UInt128? root = Nodes[replica].Up ? Nodes[replica].Engine.MerkleRoot(p) : null;
                if (root is null || (first is not null && root != first))
                {
                    disagreeing.Add(p);
                    break;
                }
                first = root;
            }
        }
        return disagreeing;
    }

    /// <summary>The first few keys on which the replicas of disagreeing partitions differ, for the violation message.</summary>
    private string DescribeDisagreement(List<int> partitions)
    {
        var parts = new List<string>();
        foreach (int p in partitions)
        {
            if (parts.Count >= 3) break;
            int[] replicas = FinalPlacement.PreferenceList(p).ToArray();
            string roots = string.Join(' ', replicas.Select(r =>
                $"node{r}:{(Nodes[r].Engine.MerkleRoot(p) is { } root ? root.ToString("x32")[..8] : "unbuilt")}"));
            var keys = new SortedSet<string>(StringComparer.Ordinal);
            foreach (int r in replicas)
            {
                var entries = new List<KeyValuePair<string, Meteora.Engine.Versioning.StoredValue>>();
                Nodes[r].Storage.Scan(p, Meteora.Engine.Storage.TokenRange.All, null, entries, 100_000);
                foreach (var e in entries) keys.Add(e.Key);
            }
            int before = parts.Count;
            foreach (string key in keys)
            {
                var held = replicas.Select(r => Nodes[r].Storage.TryGet(p, key, out var v) ? v : null).ToArray();
                if (held.All(h => Equals(h, held[0]))) continue;
                parts.Add($"p{p} {key}: " + string.Join(", ", replicas.Select((r, i) => $"node{r}={Describe(held[i])}")) + $" (roots {roots})");
                if (parts.Count >= 3) break;
            }
            if (parts.Count == before) parts.Add($"p{p}: storage equal but Merkle roots differ ({roots})");
        }
        return parts.Count == 0 ? "" : ": " + string.Join("; ", parts);

        static string Describe(Meteora.Engine.Versioning.StoredValue? v) =>
            v is null ? "absent" : v.IsTombstone ? $"tombstone v={v.Version}" : $"v={v.Version}";
    }

    /// <summary>Processes events until <paramref name="done"/> holds (checked every event, or every checkEveryMicros of virtual time) or the deadline passes.</summary>
    private bool RunUntil(Func<bool> done, long deadlineMicros, long checkEveryMicros = 0)
    {
        long nextCheck = NowMicros;
        while (true)
        {
            if ((checkEveryMicros == 0 || NowMicros >= nextCheck) && done()) return true;
            if (checkEveryMicros > 0 && NowMicros >= nextCheck) nextCheck = NowMicros + checkEveryMicros;
            if (!_queue.TryDequeue(deadlineMicros, out SimEvent ev, out long nextMicros))
            {
                if (deadlineMicros != long.MaxValue) NowMicros = Math.Max(NowMicros, deadlineMicros);
                return done();
            }
            if (++_events > MaxEvents)
            {
                throw new InvalidOperationException($"run exceeded {MaxEvents} events; something is looping");
            }
            NowMicros = nextMicros;
            Process(ev);
        }
    }

    internal void Enqueue(long atMicros, SimEvent ev)
    {
        if (atMicros < NowMicros) ThrowInThePast(atMicros, NowMicros);
        _queue.Enqueue(ev, atMicros, _sequence++);

        // The message in its own method: its builder's locals cost every call a larger frame (issue 11).
        static void ThrowInThePast(long atMicros, long nowMicros) => throw new InvalidOperationException($"event scheduled in the past ({atMicros} < {nowMicros})");
    }

    internal long DiskLatencyMicros() =>
        Math.Min(Options.DiskLatencyMaxMicros,
            Options.DiskLatencyMinMicros + (long)_disk.Exponential(Options.DiskLatencyMeanExtraMicros));

    /// <summary>Each incarnation of a node gets its own stream, so a restarted node draws fresh request ids.</summary>
    internal SimRandom NodeRandom(int node, int incarnation) => SimRandom.Stream(Seed, $"node-{node}-{incarnation}");

    internal void HashResult(ClientResult result)
    {
        _hash.Add(result.RequestId);
        _hash.Add((long)result.Status);
        _hash.Add(result.Version.TimestampMicros);
        _hash.Add(result.Version.Node);
        _hash.Add(result.Acks);
    }

    internal void Trace(string line)
    {
        _trace?.WriteLine($"{(NowMicros - EpochMicros) / 1000.0,12:F3}ms {line}");
    }

    private void Deliver(in SimEvent ev)
    {
        ReadOnlySpan<byte> frame = ev.Frame.AsSpan(0, ev.FrameLength);
        _hash.Add(frame);
        Message message = MessageCodec.Decode(frame, _keys);
        SimNode target = Nodes[ev.Node];
        if (Tracing) TraceDelivery(ev, message, target.Up);
        if (!target.Up) return;
        target.Engine.OnMessage(ev.From, message);
        CheckInvariants(ev.Node);
    }

    /// <summary>Its own method: the trace line's builder made every delivery zero a larger frame (issue 11).</summary>
    private void TraceDelivery(in SimEvent ev, Message message, bool up) =>
        Trace(up
            ? $"node{ev.Node} <- node{ev.From} {TraceFormat.Describe(message)}"
            : $"node{ev.Node} is down; lost {TraceFormat.Describe(message)} from node{ev.From}");

    private void Process(in SimEvent ev)
    {
        _hash.Add(NowMicros);
        _hash.Add((long)ev.Kind);
        _hash.Add(ev.Node);
        _hash.Add(ev.From);
        _hash.Add(ev.Id);
        _hash.Add((long)ev.Owner);
        switch (ev.Kind)
        {
            case SimEventKind.ClientInvoke:
                Workload.Invoke((int)ev.Id);
                break;
            case SimEventKind.Deliver:
                Deliver(ev);
                Frames.Return(ev.Frame!);
                break;
            case SimEventKind.Timer:
                if (!IsCurrent(ev)) break;
                Nodes[ev.Node].Engine.OnTimer(new Meteora.Engine.Runtime.TimerId(ev.Owner, ev.Id));
                CheckInvariants(ev.Node);
                break;
            case SimEventKind.DiskComplete:
                if (!IsCurrent(ev)) break;
                Nodes[ev.Node].CompleteDisk();
                CheckInvariants(ev.Node);
                break;
            case SimEventKind.SendFailed:
                if (IsCurrent(ev)) SendFailed(ev);
                Frames.Return(ev.Frame!);
                break;
            case SimEventKind.FaultStart:
                Nemesis.OnFaultStart((int)ev.Id);
                break;
            case SimEventKind.FaultEnd:
                Nemesis.OnFaultEnd((int)ev.Id);
                break;
            case SimEventKind.OperatorTick:
                Operator.OnTick();
                break;
            default:
                ThrowUnknownKind(ev.Kind);
                break;
        }

        // Messages in other methods: their locals made every call zero a larger frame (issue 11).
        static void ThrowUnknownKind(SimEventKind kind) => throw new InvalidOperationException($"unknown event kind {kind}");
    }

    private void SendFailed(in SimEvent ev)
    {
        ReadOnlySpan<byte> frame = ev.Frame.AsSpan(0, ev.FrameLength);
        _hash.Add(frame);
        Message unsent = MessageCodec.Decode(frame);
        if (Tracing) Trace($"node{ev.Node} could not reach node{ev.From}: {unsent.Kind} not sent");
        Nodes[ev.Node].Engine.OnSendFailed(ev.From, unsent);
        CheckInvariants(ev.Node);
    }

    private bool IsCurrent(in SimEvent ev)
    {
        SimNode node = Nodes[ev.Node];
        return node.Up && node.Incarnation == ev.Incarnation;
    }
}

/// <summary>An engine invariant check failed during a simulated run.</summary>
internal sealed class InvariantViolationException(int node, string message, Exception inner) : Exception(message, inner)
{
    public int Node { get; } = node;
}

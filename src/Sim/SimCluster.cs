using System.Diagnostics;
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

    private readonly PriorityQueue<SimEvent, (long TimeMicros, long Sequence)> _queue = new();
    private readonly SimRandom _disk;
    private readonly TraceHash _hash = new();
    private readonly TextWriter? _trace;
    private long _sequence;
    private long _events;

    public SimCluster(ulong seed, SimOptions options, TextWriter? trace = null, Schedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Seed = seed;
        Options = options;
        _trace = trace;
        Schedule = schedule ?? ScheduleGenerator.Generate(seed, options);
        Schedule.Validate(options);
        _disk = SimRandom.Stream(seed, "disk");
        NowMicros = EpochMicros;

        Placement = new ReplicaPlacement(RingLayout.Create(options.Partitions, Enumerable.Range(0, options.Nodes)), options.ReplicationFactor);
        History = new History();
        Network = new SimNetwork(this, SimRandom.Stream(seed, "network"));
        AckOracle = new AckOracle(this);
        Nemesis = new Nemesis(this, Schedule.Faults);
        Buggify = new SimBuggify(Schedule.BuggifySites, SimRandom.Stream(seed, "buggify"), options.BuggifyFireProbability);
        Workload = new Workload(this, SimRandom.Stream(seed, "workload"), Schedule.Ops);
        Nodes = new SimNode[options.Nodes];
        for (int i = 0; i < options.Nodes; i++)
        {
            var nodeOptions = new NodeOptions
            {
                NodeId = i,
                ReplicationFactor = options.ReplicationFactor,
                RequestTimeoutMs = options.RequestTimeoutMs,
                PlantedBugs = options.Plant,
            };
            Nodes[i] = new SimNode(this, nodeOptions, Placement);
        }
    }

    public ulong Seed { get; }
    public SimOptions Options { get; }
    public Schedule Schedule { get; }
    public ReplicaPlacement Placement { get; }
    public History History { get; }
    public long NowMicros { get; private set; }
    public long Events => _events;

    /// <summary>Virtual time at which the nemesis healed every fault.</summary>
    public long HealedAtMicros { get; private set; }

    internal SimNode[] Nodes { get; }
    internal Workload Workload { get; }
    internal Nemesis Nemesis { get; }
    internal SimNetwork Network { get; }
    internal AckOracle AckOracle { get; }
    internal SimBuggify Buggify { get; }
    internal SimRandom DiskRandom => _disk;
    internal bool Tracing => _trace is not null;

    public SimResult Run()
    {
        long wallStart = Stopwatch.GetTimestamp();
        Workload.Start();
        Nemesis.Start();
        RunWhile(() => !Workload.PlanDone);

        HealedAtMicros = NowMicros;
        Nemesis.HealAll();
        Buggify.Active = false;
        RunWhile(() => true);

        var writtenKeys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (OpRecord op in History.Operations)
        {
            if (op.IsWrite) writtenKeys.Add(op.Key);
        }
        Workload.StartQuiescenceReads(writtenKeys);
        RunWhile(() => true);

        CheckReport report = Checker.Check(this);
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
        };
    }

    private void RunWhile(Func<bool> condition)
    {
        while (condition() && _queue.TryDequeue(out SimEvent? ev, out var at))
        {
            if (++_events > MaxEvents)
            {
                throw new InvalidOperationException($"run exceeded {MaxEvents} events; something is looping");
            }
            NowMicros = at.TimeMicros;
            Process(ev);
        }
    }

    internal void Enqueue(long atMicros, SimEvent ev)
    {
        if (atMicros < NowMicros)
        {
            throw new InvalidOperationException($"event scheduled in the past ({atMicros} < {NowMicros})");
        }
        _queue.Enqueue(ev, (atMicros, _sequence++));
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

    private void Process(SimEvent ev)
    {
        _hash.Add(NowMicros);
        _hash.Add((long)ev.Kind);
        _hash.Add(ev.Node);
        _hash.Add(ev.From);
        _hash.Add(ev.Id);
        switch (ev.Kind)
        {
            case SimEventKind.ClientInvoke:
                Workload.Invoke((int)ev.Id);
                break;
            case SimEventKind.Deliver:
                {
                    _hash.Add(ev.Frame!);
                    Message message = MessageCodec.Decode(ev.Frame!);
                    SimNode target = Nodes[ev.Node];
                    if (!target.Up)
                    {
                        if (Tracing) Trace($"node{ev.Node} is down; lost {message} from node{ev.From}");
                        break;
                    }
                    if (Tracing) Trace($"node{ev.Node} <- node{ev.From} {message}");
                    target.Engine.OnMessage(ev.From, message);
                    break;
                }
            case SimEventKind.Timer:
                if (IsCurrent(ev)) Nodes[ev.Node].Engine.OnTimer(ev.Id);
                break;
            case SimEventKind.DiskComplete:
                if (IsCurrent(ev)) Nodes[ev.Node].CompleteDisk();
                break;
            case SimEventKind.FaultStart:
                Nemesis.OnFaultStart((int)ev.Id);
                break;
            case SimEventKind.FaultEnd:
                Nemesis.OnFaultEnd((int)ev.Id);
                break;
            default:
                throw new InvalidOperationException($"unknown event kind {ev.Kind}");
        }
    }

    private bool IsCurrent(SimEvent ev)
    {
        SimNode node = Nodes[ev.Node];
        return node.Up && node.Incarnation == ev.Incarnation;
    }
}

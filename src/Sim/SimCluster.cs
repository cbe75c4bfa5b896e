using System.Diagnostics;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;

namespace Meteora.Sim;

/// <summary>
/// A whole cluster in one thread: K engine nodes, a simulated network and disk, a client workload,
/// one event queue ordered by (virtual time, sequence). A run is a pure function of (seed, options).
/// </summary>
public sealed class SimCluster
{
    /// <summary>Virtual time starts at 2026-01-01T00:00:00Z so versions look like real timestamps.</summary>
    public const long EpochMicros = 1_767_225_600_000_000;

    /// <summary>Hard stop against runaway runs; a healthy 100k-op run needs a few million events.</summary>
    public const long MaxEvents = 500_000_000;

    private readonly PriorityQueue<SimEvent, (long TimeMicros, long Sequence)> _queue = new();
    private readonly SimRandom _network;
    private readonly SimRandom _disk;
    private readonly TraceHash _hash = new();
    private readonly TextWriter? _trace;
    private long _sequence;
    private long _events;

    public SimCluster(ulong seed, SimOptions options, TextWriter? trace = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Seed = seed;
        Options = options;
        _trace = trace;
        _network = SimRandom.Stream(seed, "network");
        _disk = SimRandom.Stream(seed, "disk");
        NowMicros = EpochMicros;

        var nodeIds = Enumerable.Range(0, options.Nodes).ToArray();
        Placement = new ReplicaPlacement(RingLayout.Create(options.Partitions, nodeIds), options.ReplicationFactor);
        History = new History();
        Workload = new Workload(this, options, SimRandom.Stream(seed, "workload"), History);
        Nodes = new SimNode[options.Nodes];
        for (int i = 0; i < options.Nodes; i++)
        {
            var nodeOptions = new NodeOptions
            {
                NodeId = i,
                ReplicationFactor = options.ReplicationFactor,
                RequestTimeoutMs = options.RequestTimeoutMs,
            };
            Nodes[i] = new SimNode(this, nodeOptions, Placement);
        }
    }

    public ulong Seed { get; }
    public SimOptions Options { get; }
    public ReplicaPlacement Placement { get; }
    public History History { get; }
    public long NowMicros { get; private set; }
    public long Events => _events;
    internal SimNode[] Nodes { get; }
    internal Workload Workload { get; }

    public SimResult Run()
    {
        long wallStart = Stopwatch.GetTimestamp();
        Workload.Start();
        RunUntilIdle();
        var violations = Checker.Check(this);
        int opsOk = 0, opsFailed = 0;
        foreach (OpRecord op in History.Operations)
        {
            if (op.Status is ClientStatus.Ok or ClientStatus.NotFound) opsOk++;
            else opsFailed++;
        }
        long wallMs = (long)Stopwatch.GetElapsedTime(wallStart).TotalMilliseconds;
        return new SimResult(Seed, violations.Count == 0, _hash.ToString(), _events,
            (NowMicros - EpochMicros) / 1000, wallMs, opsOk, opsFailed, violations);
    }

    internal void RunUntilIdle()
    {
        while (_queue.TryDequeue(out SimEvent? ev, out var at))
        {
            if (++_events > MaxEvents)
            {
                throw new InvalidOperationException($"run exceeded {MaxEvents} events; something is looping");
            }
            NowMicros = at.TimeMicros;
            Process(ev);
        }
    }

    internal void Schedule(long atMicros, SimEvent ev)
    {
        if (atMicros < NowMicros)
        {
            throw new InvalidOperationException($"event scheduled in the past ({atMicros} < {NowMicros})");
        }
        _queue.Enqueue(ev, (atMicros, _sequence++));
    }

    internal long NetworkLatencyMicros() =>
        Math.Min(Options.NetworkLatencyMaxMicros,
            Options.NetworkLatencyMinMicros + (long)_network.Exponential(Options.NetworkLatencyMeanExtraMicros));

    internal long DiskLatencyMicros() =>
        Math.Min(Options.DiskLatencyMaxMicros,
            Options.DiskLatencyMinMicros + (long)_disk.Exponential(Options.DiskLatencyMeanExtraMicros));

    internal SimRandom NodeRandom(int node) => SimRandom.Stream(Seed, "node-" + node);

    internal void HashResult(ClientResult result)
    {
        _hash.Add(result.RequestId);
        _hash.Add((long)result.Status);
        _hash.Add(result.Version.TimestampMicros);
        _hash.Add(result.Version.Node);
        _hash.Add(result.Acks);
    }

    internal bool Tracing => _trace is not null;

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
                    if (_trace is not null) Trace($"node{ev.Node} <- node{ev.From} {message}");
                    Nodes[ev.Node].Engine.OnMessage(ev.From, message);
                    break;
                }
            case SimEventKind.Timer:
                Nodes[ev.Node].Engine.OnTimer(ev.Id);
                break;
            case SimEventKind.DiskComplete:
                if (_trace is not null) Trace($"node{ev.Node} disk write durable");
                Nodes[ev.Node].CompleteDisk();
                break;
            default:
                throw new InvalidOperationException($"unknown event kind {ev.Kind}");
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;

namespace Meteora.Sim;

/// <summary>
/// Every decision of a run that a shrinker may remove: the clients' operations, the timed faults
/// and the buggify sites switched on. Together with the seed (which still drives latencies and
/// per-message fault draws) it replays a run exactly. Serializable as JSON.
/// </summary>
public sealed record Schedule(
    IReadOnlyList<PlannedOp> Ops,
    IReadOnlyList<Fault> Faults,
    IReadOnlyList<BuggifySite> BuggifySites)
{
    public int Size => Ops.Count + Faults.Count + BuggifySites.Count;

    public string ToJson() => JsonSerializer.Serialize(this, ScheduleJson.Default.Schedule);

    public static Schedule FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ScheduleJson.Default.Schedule) ?? throw new SimUsageException("schedule file is empty");
        }
        catch (JsonException e)
        {
            throw new SimUsageException($"schedule is not valid: {e.Message}");
        }
    }

    /// <summary>Checks the schedule fits the cluster it will run on.</summary>
    public void Validate(SimOptions options)
    {
        foreach (PlannedOp op in Ops)
        {
            if (op.Client < 0 || op.Client >= options.Clients) throw new SimUsageException($"schedule op uses client {op.Client}, but --clients is {options.Clients}");
            if (op.Coordinator < 0 || op.Coordinator >= options.TotalNodes) throw new SimUsageException($"schedule op uses node {op.Coordinator}, but --nodes is {options.Nodes}");
            if (op.Consistency < 1 || op.Consistency > options.ReplicationFactor) throw new SimUsageException($"schedule op uses R/W {op.Consistency} outside 1..{options.ReplicationFactor}");
            if (string.IsNullOrEmpty(op.Key)) throw new SimUsageException("schedule op has an empty key");
        }
        foreach (Fault fault in Faults)
        {
            foreach (int node in fault.Nodes())
            {
                if (node < 0 || node >= options.TotalNodes) throw new SimUsageException($"schedule fault {fault} names node {node}, but the cluster has {options.TotalNodes} node slots");
            }
            if (fault.AtMs < 0) throw new SimUsageException($"schedule fault {fault} starts before time 0");
        }
    }
}

/// <summary>
/// One client operation, in its client's order. <paramref name="PrimaryOnly"/>: a strict quorum (primaryRead/primaryWrite); false: sloppy, fallbacks count.
/// A struct: a schedule holds one per operation for the whole run, and 100,000 small objects were work for every collection that promoted them (issue 11).
/// </summary>
public readonly record struct PlannedOp(int Client, ClientOperation Operation, string Key, int Consistency, int Coordinator, bool PrimaryOnly = false);

[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(PartitionFault), "partition")]
[JsonDerivedType(typeof(CrashFault), "crash")]
[JsonDerivedType(typeof(LinkFault), "link")]
[JsonDerivedType(typeof(DiskFault), "disk")]
[JsonDerivedType(typeof(ClockFault), "clock")]
[JsonDerivedType(typeof(JoinFault), "join")]
[JsonDerivedType(typeof(LeaveFault), "leave")]
[JsonDerivedType(typeof(RemoveFault), "remove")]
public abstract record Fault(long AtMs)
{
    public virtual IEnumerable<int> Nodes() => [];
}

/// <summary>Messages from SideA to SideB are lost (and back, unless OneWay) for DurationMs.</summary>
public sealed record PartitionFault(long AtMs, long DurationMs, int[] SideA, int[] SideB, bool OneWay) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [.. SideA, .. SideB];
    public override string ToString() =>
        $"partition at {AtMs}ms for {DurationMs}ms [{string.Join(',', SideA)}] {(OneWay ? "->" : "<->")} [{string.Join(',', SideB)}]";
}

/// <summary>
/// The listed nodes lose their memory and un-synced writes at the same instant (one machine, or a
/// rack or the whole cluster losing power); they restart from disk DownMs later.
/// </summary>
public sealed record CrashFault(long AtMs, int[] CrashedNodes, long DownMs) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => CrashedNodes;
    public override string ToString() => $"crash [{string.Join(',', CrashedNodes)}] at {AtMs}ms for {DownMs}ms";
}

/// <summary>A lossy network for DurationMs: each message may be dropped, duplicated, delayed a lot, or jittered (reordered).</summary>
public sealed record LinkFault(long AtMs, long DurationMs, double DropProbability, double DuplicateProbability,
    double DelaySpikeProbability, long ReorderJitterMicros) : Fault(AtMs)
{
    public override string ToString() =>
        $"lossy network at {AtMs}ms for {DurationMs}ms drop={DropProbability:F2} dup={DuplicateProbability:F2} spike={DelaySpikeProbability:F2} jitter={ReorderJitterMicros}us";
}

/// <summary>Node's disk is slow (latency spikes) and/or failing writes for DurationMs.</summary>
public sealed record DiskFault(long AtMs, long DurationMs, int Node, double SlowProbability, double FailProbability) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [Node];
    public override string ToString() => $"disk node{Node} at {AtMs}ms for {DurationMs}ms slow={SlowProbability:F2} fail={FailProbability:F2}";
}

/// <summary>At AtMs node's clock jumps by JumpMs, then drifts at DriftPpm, and ticks in ResolutionMicros steps.</summary>
public sealed record ClockFault(long AtMs, int Node, long JumpMs, int DriftPpm, long ResolutionMicros) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [Node];
    public override string ToString() => $"clock node{Node} at {AtMs}ms jump={JumpMs}ms drift={DriftPpm}ppm resolution={ResolutionMicros}us";
}

/// <summary>A fresh node (empty disk) starts and joins the ring through <see cref="Seed"/>.</summary>
public sealed record JoinFault(long AtMs, int Node, int Seed) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [Node, Seed];
    public override string ToString() => $"join node{Node} via node{Seed} at {AtMs}ms";
}

/// <summary>An operator asks <see cref="Node"/> to leave the ring (retried while refused for a transient reason).</summary>
public sealed record LeaveFault(long AtMs, int Node) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [Node];
    public override string ToString() => $"leave node{Node} at {AtMs}ms";
}

/// <summary><see cref="Node"/> dies for good (disk lost); an operator asks <see cref="Via"/> to remove it from the ring.</summary>
public sealed record RemoveFault(long AtMs, int Node, int Via) : Fault(AtMs)
{
    public override IEnumerable<int> Nodes() => [Node, Via];
    public override string ToString() => $"remove node{Node} via node{Via} at {AtMs}ms";
}

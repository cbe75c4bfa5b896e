using System.Text;
using System.Text.Json;
using Meteora.Checking;

namespace Meteora.Sim;

/// <summary>The outcome of one run; <see cref="ToJson"/> is the CLI's machine-readable last line.</summary>
public sealed record SimResult(
    ulong Seed,
    bool Ok,
    string TraceHash,
    long Events,
    long SimulatedMs,
    long WallMs,
    int OpsOk,
    int OpsFailed,
    IReadOnlyList<Violation> Findings)
{
    /// <summary>The violations' one-line texts, in the order they were found.</summary>
    public IReadOnlyList<string> Violations { get; } = [.. Findings.Select(v => v.Text)];

    /// <summary>Acknowledged writes that lost, under LWW, to a write acknowledged before they began (clock skew): a figure, not a violation.</summary>
    public int SkewDiscardedWrites { get; init; }

    /// <summary>Virtual time from healing to all replicas agreeing, by anti-entropy alone (null: they never did).</summary>
    public long? ConvergenceMs { get; init; }

    /// <summary>Tombstones purged (past their grace period and repaired everywhere), over all nodes.</summary>
    public int TombstonesPurged { get; init; }

    /// <summary>Hinted handoff over all nodes: hints stored, delivered (deleted after the owner's ack), dropped past their window, found obsolete by their owner.</summary>
    public HintFigures Hints { get; init; }

    /// <summary>Engine invariant checks run (one per node per event it handled, plus the periodic deep ones).</summary>
    public long InvariantChecks { get; init; }

    /// <summary>The engine limits and timeouts the run used.</summary>
    public SimKnobs? Knobs { get; init; }

    public string ToJson() => JsonLine.Object(json =>
    {
        json.WriteNumber("seed", Seed);
        json.WriteBoolean("ok", Ok);
        json.WriteString("traceHash", TraceHash);
        json.WriteNumber("events", Events);
        json.WriteNumber("simulatedMs", SimulatedMs);
        json.WriteNumber("wallMs", WallMs);
        json.WriteNumber("opsOk", OpsOk);
        json.WriteNumber("opsFailed", OpsFailed);
        JsonLine.WriteViolations(json, Violations);
        json.WriteNumber("skewDiscardedWrites", SkewDiscardedWrites);
        if (ConvergenceMs is { } convergence) json.WriteNumber("convergenceMs", convergence);
        else json.WriteNull("convergenceMs");
        json.WriteNumber("tombstonesPurged", TombstonesPurged);
        json.WriteNumber("invariantChecks", InvariantChecks);
        json.WriteStartObject("hints");
        json.WriteNumber("stored", Hints.Stored);
        json.WriteNumber("delivered", Hints.Delivered);
        json.WriteNumber("dropped", Hints.Dropped);
        json.WriteNumber("obsolete", Hints.Obsolete);
        json.WriteEndObject();
        Knobs?.WriteJson(json);
    });
}

/// <summary>Hint counts of one run, over all nodes (counted by the simulator, so crashes do not reset them).</summary>
public readonly record struct HintFigures(int Stored, int Delivered, int Dropped, int Obsolete);

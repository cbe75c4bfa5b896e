namespace Meteora.Nemesis;

/// <summary>A packet drop: everything from node <see cref="From"/> to node <see cref="To"/> is lost.</summary>
internal readonly record struct Cut(int From, int To);

/// <summary>
/// One fault window: applied at <see cref="StartMs"/> after the workload began, healed
/// <see cref="DurationMs"/> later. Only the fields of its kind are set.
/// </summary>
internal sealed record FaultStep(int Index, FaultKind Kind, long StartMs, long DurationMs, int Node, string Variant)
{
    public IReadOnlyList<Cut> Cuts { get; init; } = [];

    /// <summary>Clock: the wall-clock offset first set, then the one it jumps to halfway (ms).</summary>
    public long OffsetMs { get; init; }
    public long JumpToMs { get; init; }

    public override string ToString() => Kind switch
    {
        FaultKind.Partition => $"partition {Variant}: drops {string.Join(' ', Cuts.Select(c => $"{c.From}>{c.To}"))}",
        FaultKind.Clock => $"clock node{Node}: offset {OffsetMs:+#;-#;0} ms, then jumps to {JumpToMs:+#;-#;0} ms",
        _ => $"{FaultKinds.Name(Kind)} node{Node}",
    };
}

/// <summary>
/// The fault schedule of a run, drawn from its seed alone (same seed, same plan): after a warm-up,
/// one fault at a time with quiet gaps between, so every fault's effect and its heal can be told
/// apart in the logs. Jepsen's nemeses work the same way (start, wait, stop).
/// </summary>
internal static class FaultPlan
{
    public const long WarmUpMs = 3_000;
    public const long MinGapMs = 1_000;
    public const long MaxGapMs = 3_000;
    public const long MinFaultMs = 3_000;
    public const long MaxFaultMs = 8_000;

    /// <summary>A pause of a few seconds, like a long GC: longer would only look like a kill.</summary>
    public const long MaxPauseMs = 5_000;

    public const long MaxClockOffsetMs = 3_000;

    /// <summary>
    /// The last fault is still active when the workload ends (the final heal undoes it), as in the
    /// simulator: writes a cut-off replica missed are then fixed by anti-entropy alone, not by a
    /// later read's read repair, so the convergence check tests anti-entropy.
    /// </summary>
    public const long CoolDownMs = 0;

    public static IReadOnlyList<FaultStep> Generate(ulong seed, int nodes, long durationMs, IReadOnlyList<FaultKind> kinds)
    {
        var steps = new List<FaultStep>();
        if (kinds.Count == 0) return steps;
        var random = new Random(unchecked((int)(seed ^ (seed >> 32)) ^ 0x4e454d));
        long t = WarmUpMs;
        while (true)
        {
            FaultKind kind = kinds[random.Next(kinds.Count)];
            long maxMs = kind == FaultKind.Pause ? MaxPauseMs : MaxFaultMs;
            if (t + MinFaultMs > durationMs - CoolDownMs) break;
            long duration = Math.Min(random.NextInt64(MinFaultMs, maxMs + 1), durationMs - CoolDownMs - t);
            // No room for another fault after this one: it lasts to the end (a pause stays a pause).
            if (t + duration + MaxGapMs + MinFaultMs > durationMs)
            {
                duration = kind == FaultKind.Pause ? Math.Min(durationMs - t, MaxPauseMs) : durationMs - t;
            }
            steps.Add(Draw(random, steps.Count, kind, t, duration, nodes));
            t += duration + random.NextInt64(MinGapMs, MaxGapMs + 1);
        }
        return steps;
    }

    private static FaultStep Draw(Random random, int index, FaultKind kind, long startMs, long durationMs, int nodes)
    {
        int node = random.Next(nodes);
        switch (kind)
        {
            case FaultKind.Partition:
                return DrawPartition(random, index, startMs, durationMs, nodes);
            case FaultKind.Clock:
                return new FaultStep(index, kind, startMs, durationMs, node, "offset")
                {
                    OffsetMs = SignedOffset(random),
                    JumpToMs = SignedOffset(random),
                };
            default:
                return new FaultStep(index, kind, startMs, durationMs, node, FaultKinds.Name(kind));
        }
    }

    private static long SignedOffset(Random random)
    {
        long magnitude = random.NextInt64(200, MaxClockOffsetMs + 1);
        return random.Next(2) == 0 ? magnitude : -magnitude;
    }

    private static FaultStep DrawPartition(Random random, int index, long startMs, long durationMs, int nodes)
    {
        int[] order = [.. Enumerable.Range(0, nodes)];
        random.Shuffle(order);
        var cuts = new List<Cut>();
        string variant;
        switch (random.Next(3))
        {
            case 0: // random halves: the smaller side has 1..nodes/2 nodes
                int small = random.Next(1, nodes / 2 + 1);
                variant = $"halves [{string.Join(',', order[..small].Order())}] | [{string.Join(',', order[small..].Order())}]";
                foreach (int a in order[..small])
                {
                    foreach (int b in order[small..])
                    {
                        cuts.Add(new Cut(a, b));
                        cuts.Add(new Cut(b, a));
                    }
                }
                break;
            case 1: // one node isolated from all others
                variant = $"isolate node{order[0]}";
                for (int b = 0; b < nodes; b++)
                {
                    if (b == order[0]) continue;
                    cuts.Add(new Cut(order[0], b));
                    cuts.Add(new Cut(b, order[0]));
                }
                break;
            default: // one-way: node A's packets to B and C are lost, the other direction flows
                variant = $"one-way node{order[0]} -> nodes {order[1]},{order[2]}";
                cuts.Add(new Cut(order[0], order[1]));
                cuts.Add(new Cut(order[0], order[2]));
                break;
        }
        return new FaultStep(index, FaultKind.Partition, startMs, durationMs, -1, variant) { Cuts = cuts };
    }
}

namespace Meteora.Checking;

/// <summary>Which invariant a violation breaks; <see cref="ViolationKinds.Label"/> is the prefix of its text.</summary>
public enum ViolationKind
{
    Completion,
    InventedData,
    Freshness,
    Durability,
    Resurrection,
    Convergence,
    Liveness,
    Quiescence,
    AckBeforeDurable,
    Invariant,

    /// <summary>The world running the cluster failed (real mode: a node process died on its own, a replica could not be read).</summary>
    Harness,

    /// <summary>Hinted handoff broke a rule: a hint deleted before its owner's durable ack, hint storage over its bound, hints never delivered after healing.</summary>
    Handoff,
}

/// <summary>
/// One broken invariant: its kind, the one readable line printed for it, and the operations and nodes
/// it names, so a viewer can highlight them without parsing the text. A "... and N more" summary line
/// names no operation.
/// </summary>
public sealed record Violation(ViolationKind Kind, string Text, IReadOnlyList<long> OpIds, IReadOnlyList<int> NodeIds)
{
    /// <summary>The key the violation is about, when it is about one.</summary>
    public string? Key { get; init; }

    /// <summary>How many findings this entry stands for: 1, or for a "... and N more" summary line, N.</summary>
    public int Count { get; init; } = 1;

    public override string ToString() => Text;
}

public static class ViolationKinds
{
    public static string Label(ViolationKind kind) => kind switch
    {
        ViolationKind.Completion => "completion",
        ViolationKind.InventedData => "invented data",
        ViolationKind.Freshness => "freshness",
        ViolationKind.Durability => "durability",
        ViolationKind.Resurrection => "resurrection",
        ViolationKind.Convergence => "convergence",
        ViolationKind.Liveness => "liveness",
        ViolationKind.Quiescence => "quiescence",
        ViolationKind.AckBeforeDurable => "ack before durable",
        ViolationKind.Invariant => "invariant",
        ViolationKind.Harness => "harness",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown violation kind"),
    };
}

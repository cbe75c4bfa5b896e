namespace Meteora.Engine.Handoff;

/// <summary>Hints one node holds for one target, and what became of those it held.</summary>
public readonly record struct HintTargetStats(int Target, long Pending, long BytesPending, long Stored, long Delivered, long Dropped);

/// <summary>
/// A node's hinted-handoff figures: <see cref="Pending"/> hints held now (<see cref="BytesPending"/>
/// bytes), and since start hints stored, delivered (owner acked durably) and dropped (expired past
/// the window, or found obsolete); <see cref="Refused"/>: hinted writes refused by the bounds.
/// </summary>
public sealed record HintStats(long Pending, long BytesPending, long Stored, long Delivered, long Dropped, long Refused, IReadOnlyList<HintTargetStats> PerTarget);

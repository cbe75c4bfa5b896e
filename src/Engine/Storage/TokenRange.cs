namespace Meteora.Engine.Storage;

/// <summary>
/// An inclusive range of token-high-64 values (<see cref="StorageOrder.TokenHigh64"/>): the unit a
/// partition's entries are scanned by. A Merkle leaf of a partition is one such range
/// (<see cref="Merkle.MerkleTree.LeafRange"/>), and so is the whole partition (<see cref="All"/>
/// together with the partition id).
/// </summary>
public readonly record struct TokenRange(ulong First, ulong Last)
{
    /// <summary>Every token: with a partition id, the whole partition.</summary>
    public static TokenRange All { get; } = new(0, ulong.MaxValue);

    public ulong First { get; } = First <= Last
        ? First
        : throw new ArgumentException($"token range first {First:x16} is after last {Last:x16}", nameof(First));

    public ulong Last { get; } = Last;

    public bool Contains(ulong tokenHigh64) => First <= tokenHigh64 && tokenHigh64 <= Last;

    public override string ToString() => $"[{First:x16}..{Last:x16}]";
}

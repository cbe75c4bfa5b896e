namespace Meteora.Engine.Node;

/// <summary>
/// Deliberate bugs, switched on only by the simulator's <c>--plant</c> option, to prove the checkers
/// can catch them. A checker that cannot catch a planted bug is itself a defect.
/// </summary>
[Flags]
public enum PlantedBug
{
    None = 0,

    /// <summary>A replica acks a write as soon as it is visible, before it is durable.</summary>
    AckBeforeDurable = 1,

    /// <summary>Version comparison ignores the node tie-breaker: equal timestamps from two coordinators look equal.</summary>
    LwwNoTieBreak = 2,

    /// <summary>The coordinator answers a get after the first reply, whatever R is.</summary>
    ReadIgnoresR = 4,

    /// <summary>Anti-entropy never compares leaf 0 of any partition's Merkle tree.</summary>
    MerkleSkipLeaf = 8,
}

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

    /// <summary>The claimant flips a ring change to its target layout at once, before any data moved.</summary>
    FlipBeforeTransfer = 16,

    /// <summary>A fallback deletes a hint as soon as it sends it to the owner, before the owner's durable ack.</summary>
    HintDeletedBeforeAck = 32,
}

/// <summary>The planted bugs' command-line names (`--plant NAME`), shared by meteora-sim and meteora.</summary>
public static class PlantedBugNames
{
    public const string Expected = "ack-before-durable, lww-no-tiebreak, read-ignores-r, merkle-skip-leaf, flip-before-transfer or hint-deleted-before-ack";

    /// <summary>Null or empty or "none" is <see cref="PlantedBug.None"/>; false for an unknown name.</summary>
    public static bool TryParse(string? text, out PlantedBug bug)
    {
        bug = text?.Trim().ToLowerInvariant() switch
        {
            null or "" or "none" => PlantedBug.None,
            "ack-before-durable" => PlantedBug.AckBeforeDurable,
            "lww-no-tiebreak" => PlantedBug.LwwNoTieBreak,
            "read-ignores-r" => PlantedBug.ReadIgnoresR,
            "merkle-skip-leaf" => PlantedBug.MerkleSkipLeaf,
            "flip-before-transfer" => PlantedBug.FlipBeforeTransfer,
            "hint-deleted-before-ack" => PlantedBug.HintDeletedBeforeAck,
            _ => (PlantedBug)(-1),
        };
        return bug != (PlantedBug)(-1);
    }

    public static string Format(PlantedBug bug) => bug switch
    {
        PlantedBug.None => "none",
        PlantedBug.AckBeforeDurable => "ack-before-durable",
        PlantedBug.LwwNoTieBreak => "lww-no-tiebreak",
        PlantedBug.ReadIgnoresR => "read-ignores-r",
        PlantedBug.MerkleSkipLeaf => "merkle-skip-leaf",
        PlantedBug.FlipBeforeTransfer => "flip-before-transfer",
        PlantedBug.HintDeletedBeforeAck => "hint-deleted-before-ack",
        _ => bug.ToString(),
    };
}

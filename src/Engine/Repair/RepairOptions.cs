namespace Meteora.Engine.Repair;

/// <summary>Anti-entropy limits and intervals. Every number is bounded by <see cref="Validate"/>.</summary>
public sealed record RepairOptions
{
    /// <summary>Merkle tree depth: 2^depth leaves per partition replica.</summary>
    public int MerkleDepth { get; init; } = 10;

    /// <summary>Background anti-entropy period; 0 turns background repair off (on-demand jobs still run).</summary>
    public long AntiEntropyIntervalMs { get; init; } = 60_000;

    /// <summary>How long a repair request waits for its reply before it is retried.</summary>
    public long RequestTimeoutMs { get; init; } = 2_000;

    /// <summary>Tries per request before the session (one partition, one peer) fails.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Sessions one node runs at once.</summary>
    public int MaxConcurrentSessions { get; init; } = 4;

    /// <summary>Tombstones are purged only after this long, so anti-entropy cannot resurrect a delete (Cassandra's gc_grace).</summary>
    public long TombstoneGraceMs { get; init; } = 10L * 24 * 3600 * 1000;

    /// <summary>Entries scanned per event-loop turn by Merkle rebuilds and tombstone sweeps.</summary>
    public int SliceEntries { get; init; } = 1_000;

    /// <summary>Byte budget of one leaf-entries or pull reply.</summary>
    public int ReplyBudgetBytes { get; init; } = 256 * 1024;

    /// <summary>Merkle tree nodes asked for in one hashes request.</summary>
    public int MaxNodesPerRequest { get; init; } = 1024;

    /// <summary>Leaves asked for in one leaf-entries request.</summary>
    public int MaxLeavesPerRequest { get; init; } = 256;

    /// <summary>Keys asked for in one pull request.</summary>
    public int MaxKeysPerPull { get; init; } = 512;

    /// <summary>Repair pushes one session waits on at once; more wait in the session's queue.</summary>
    public int MaxPushesInFlight { get; init; } = 256;

    /// <summary>Smallest reply budget; a reply always carries at least one leaf or key, whatever the budget.</summary>
    public const int MinReplyBudgetBytes = 256;

    /// <summary>Finished jobs kept for status queries.</summary>
    public const int MaxRememberedJobs = 32;

    public void Validate()
    {
        Check(MerkleDepth is >= Merkle.MerkleTree.MinDepth and <= Merkle.MerkleTree.MaxDepth, $"MerkleDepth must be in {Merkle.MerkleTree.MinDepth}..{Merkle.MerkleTree.MaxDepth}");
        Check(AntiEntropyIntervalMs is >= 0 and <= 86_400_000, "AntiEntropyIntervalMs must be in 0..86400000");
        Check(RequestTimeoutMs is >= 1 and <= 600_000, "RequestTimeoutMs must be in 1..600000");
        Check(MaxAttempts is >= 1 and <= 100, "MaxAttempts must be in 1..100");
        Check(MaxConcurrentSessions is >= 1 and <= 1024, "MaxConcurrentSessions must be in 1..1024");
        Check(TombstoneGraceMs >= 1, "TombstoneGraceMs must be positive");
        Check(SliceEntries is >= 1 and <= 1_000_000, "SliceEntries must be in 1..1000000");
        Check(MaxNodesPerRequest is >= 1 and <= 4096, "MaxNodesPerRequest must be in 1..4096");
        Check(MaxLeavesPerRequest is >= 1 and <= 4096, "MaxLeavesPerRequest must be in 1..4096");
        Check(MaxKeysPerPull is >= 1 and <= 4096, "MaxKeysPerPull must be in 1..4096");
        Check(MaxPushesInFlight is >= 1 and <= 4096, "MaxPushesInFlight must be in 1..4096");
        Check((long)MaxConcurrentSessions * (1 + MaxPushesInFlight) <= Limits.MaxRepairRequestsInFlight,
            $"MaxConcurrentSessions x (1 + MaxPushesInFlight) must be at most {Limits.MaxRepairRequestsInFlight}");
        Check(ReplyBudgetBytes >= MinReplyBudgetBytes && ReplyBudgetBytes <= Limits.MaxMessageSizeBytes / 2, $"ReplyBudgetBytes must be in {MinReplyBudgetBytes}..{Limits.MaxMessageSizeBytes / 2}");
    }

    /// <summary>Tombstones with a timestamp before this are past their grace period (the one place it is computed).</summary>
    public long PurgeCutoffMicros(long nowMicros) => nowMicros - Runtime.TimeUnits.MsToMicros(TombstoneGraceMs);

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentOutOfRangeException(nameof(RepairOptions), message);
    }
}

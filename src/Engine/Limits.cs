namespace Meteora.Engine;

/// <summary>Explicit bounds on everything the engine accepts (TigerBeetle style: every input is bounded).</summary>
public static class Limits
{
    /// <summary>Largest key, in UTF-8 bytes.</summary>
    public const int MaxKeySizeBytes = 1024;

    /// <summary>Largest value, in bytes.</summary>
    public const int MaxValueSizeBytes = 1024 * 1024;

    /// <summary>Largest encoded message; a value plus its key and headers always fit.</summary>
    public const int MaxMessageSizeBytes = MaxValueSizeBytes + MaxKeySizeBytes + 256;

    /// <summary>Largest replication factor.</summary>
    public const int MaxReplicationFactor = 16;

    /// <summary>Largest cluster the ring accepts.</summary>
    public const int MaxNodes = 4096;

    /// <summary>Largest partition count (Q).</summary>
    public const int MaxPartitions = 1 << 16;

    /// <summary>Coordinator requests in flight at once on one node; beyond it a request fails fast.</summary>
    public const int MaxPendingRequests = 100_000;

    /// <summary>
    /// Replica disk operations (writes, purges) submitted and not yet completed; each may carry one
    /// ack waiter. Beyond it a replica nacks acked writes and skips unacked repairs and purges
    /// (anti-entropy brings them back later). Below the stores' own bounds (1M).
    /// </summary>
    public const int MaxInFlightStorageOps = 200_000;

    /// <summary>Tombstones remembered for GC; beyond it new tombstones are kept but not scheduled for purge until a restart re-scans them (never purged early).</summary>
    public const int MaxTrackedTombstones = 1_000_000;

    /// <summary>Replies and acks a buggify site may hold back at once; beyond it they go out at once.</summary>
    public const int MaxDelayedSends = 10_000;

    /// <summary>Messages a node may send itself while handling one input; more means a loop (fail-stop).</summary>
    public const int MaxLocalMessagesPerEvent = 10_000;

    /// <summary>Repair requests and pushes one node waits on at once (sessions × per-session bound, with room).</summary>
    public const int MaxRepairRequestsInFlight = 1024 * 1024;
}

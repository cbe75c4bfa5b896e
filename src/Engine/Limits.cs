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
}

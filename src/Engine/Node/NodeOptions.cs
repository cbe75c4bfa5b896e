namespace Meteora.Engine.Node;

/// <summary>Static configuration of one node. Validated by <see cref="Validate"/>.</summary>
public sealed record NodeOptions
{
    public required int NodeId { get; init; }

    /// <summary>N: replicas per key (capped at the node count).</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>R used when a get does not name one; null = majority of N.</summary>
    public int? DefaultReadConsistency { get; init; }

    /// <summary>W used when a set/delete does not name one; null = majority of N.</summary>
    public int? DefaultWriteConsistency { get; init; }

    /// <summary>How long a coordinator waits for R/W replicas before failing the request.</summary>
    public long RequestTimeoutMs { get; init; } = 1000;

    /// <summary>Merkle trees, anti-entropy and tombstone purges.</summary>
    public Repair.RepairOptions Repair { get; init; } = new();

    /// <summary>Heartbeats and the phi accrual failure detector.</summary>
    public Membership.FailureDetectorOptions FailureDetector { get; init; } = new();

    /// <summary>Each node sends its ring version to one random live peer this often (push-pull gossip).</summary>
    public long GossipIntervalMs { get; init; } = 1000;

    public const long MaxGossipIntervalMs = 600_000;

    /// <summary>The address peers dial to reach this node (HOST:PORT); a joining node announces it. Null: "node-ID" (the simulator).</summary>
    public string? PeerAddress { get; init; }

    /// <summary>Transfers during ring changes pull at most this many bytes per second (plus one burst).</summary>
    public long StreamBytesPerSecond { get; init; } = 32L * 1024 * 1024;

    public const long MaxStreamBytesPerSecond = 10L * 1024 * 1024 * 1024;

    /// <summary>Hinted handoff: the hint window, bounds and replay rate.</summary>
    public Handoff.HintOptions Hints { get; init; } = new();

    /// <summary>Deliberate bugs for checker self-tests; always None outside the simulator.</summary>
    public PlantedBug PlantedBugs { get; init; } = PlantedBug.None;

    /// <summary>How long a buggified replica holds back a reply or an ack.</summary>
    public long BuggifyDelayMs { get; init; } = DefaultBuggifyDelayMs;

    public const long DefaultBuggifyDelayMs = 50;

    public const long MaxRequestTimeoutMs = 600_000;

    public void Validate()
    {
        if (NodeId < 0) throw new ArgumentOutOfRangeException(nameof(NodeId), NodeId, "node id must be non-negative");
        if (ReplicationFactor < 1 || ReplicationFactor > Limits.MaxReplicationFactor)
        {
            throw new ArgumentOutOfRangeException(nameof(ReplicationFactor), ReplicationFactor, $"N must be in 1..{Limits.MaxReplicationFactor}");
        }
        CheckConsistency(DefaultReadConsistency, nameof(DefaultReadConsistency));
        CheckConsistency(DefaultWriteConsistency, nameof(DefaultWriteConsistency));
        ArgumentNullException.ThrowIfNull(Repair);
        Repair.Validate();
        ArgumentNullException.ThrowIfNull(FailureDetector);
        FailureDetector.Validate();
        ArgumentNullException.ThrowIfNull(Hints);
        Hints.Validate();
        if (GossipIntervalMs < 1 || GossipIntervalMs > MaxGossipIntervalMs)
        {
            throw new ArgumentOutOfRangeException(nameof(GossipIntervalMs), GossipIntervalMs, $"gossip interval must be in 1..{MaxGossipIntervalMs} ms");
        }
        if (StreamBytesPerSecond < 1024 || StreamBytesPerSecond > MaxStreamBytesPerSecond)
        {
            throw new ArgumentOutOfRangeException(nameof(StreamBytesPerSecond), StreamBytesPerSecond, $"stream rate must be in 1024..{MaxStreamBytesPerSecond} bytes/s");
        }
        if (PeerAddress is not null && (PeerAddress.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(PeerAddress) > Membership.Member.MaxPeerAddressBytes))
        {
            throw new ArgumentException($"peer address must be 1..{Membership.Member.MaxPeerAddressBytes} bytes", nameof(PeerAddress));
        }
        if (RequestTimeoutMs < 1 || RequestTimeoutMs > MaxRequestTimeoutMs)
        {
            throw new ArgumentOutOfRangeException(nameof(RequestTimeoutMs), RequestTimeoutMs, $"request timeout must be in 1..{MaxRequestTimeoutMs} ms");
        }
    }

    private void CheckConsistency(int? value, string name)
    {
        if (value is { } v && (v < 1 || v > ReplicationFactor))
        {
            throw new ArgumentOutOfRangeException(name, v, $"{name} must be in 1..N ({ReplicationFactor})");
        }
    }
}

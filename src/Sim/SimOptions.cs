namespace Meteora.Sim;

/// <summary>Everything a simulation run depends on besides the seed. A run is a pure function of (seed, options).</summary>
public sealed record SimOptions
{
    public int Nodes { get; init; } = 3;
    public int Operations { get; init; } = 1000;
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>Fixed R for every get; null draws R in 1..N per request.</summary>
    public int? ReadConsistency { get; init; }

    /// <summary>Fixed W for every set/delete; null draws W in 1..N per request.</summary>
    public int? WriteConsistency { get; init; }

    /// <summary>Share of requests (percent) that count primaries only (strict quorums); the rest are sloppy (fallbacks count).</summary>
    public int StrictPercent { get; init; } = 50;

    public int Clients { get; init; } = 8;
    public int Keys { get; init; } = 200;
    public int Partitions { get; init; } = 64;
    public long RequestTimeoutMs { get; init; } = 1000;

    /// <summary>Network one-way latency: fixed floor plus an exponential tail, capped.</summary>
    public long NetworkLatencyMinMicros { get; init; } = 100;
    public double NetworkLatencyMeanExtraMicros { get; init; } = 400;
    public long NetworkLatencyMaxMicros { get; init; } = 20_000;

    public long DiskLatencyMinMicros { get; init; } = 50;
    public double DiskLatencyMeanExtraMicros { get; init; } = 200;
    public long DiskLatencyMaxMicros { get; init; } = 10_000;

    /// <summary>Background anti-entropy period on every node.</summary>
    public long AntiEntropyIntervalMs { get; init; } = 300;

    /// <summary>Merkle depth; null: drawn per seed (0..4) with the other knobs, or 2 with <see cref="DrawKnobs"/> off. Small, because the simulated key space is small.</summary>
    public int? MerkleDepth { get; init; }

    /// <summary>Draw engine limits and timeouts per seed (<see cref="SimKnobs"/>); false: production defaults.</summary>
    public bool DrawKnobs { get; init; } = true;

    /// <summary>Tombstones older than this are purged.</summary>
    public long TombstoneGraceMs { get; init; } = 5_000;

    /// <summary>After healing, anti-entropy must make all replicas equal within this much virtual time.</summary>
    public long ConvergenceDeadlineMs { get; init; } = 60_000;

    /// <summary>Which kinds of fault the nemesis draws from the seed.</summary>
    public FaultKinds Faults { get; init; } = FaultKinds.None;

    /// <summary>Deliberate engine bugs, for checker self-tests.</summary>
    public Meteora.Engine.Node.PlantedBug Plant { get; init; } = Meteora.Engine.Node.PlantedBug.None;

    /// <summary>Probability that an enabled buggify site fires at one call.</summary>
    public double BuggifyFireProbability { get; init; } = 0.1;

    /// <summary>Client pause between one answer and its next request.</summary>
    public long ClientThinkMaxMicros { get; init; } = 2_000;

    /// <summary>
    /// Spare node slots beyond the initial ring that membership faults may join (ids Nodes..Nodes+Joiners-1,
    /// fresh empty disks). Null: 2 when membership faults are on, else 0.
    /// </summary>
    public int? Joiners { get; init; }

    /// <summary>Transfer throttle of every node; null: drawn with the knobs (production default with --knobs default).</summary>
    public long? StreamBytesPerSecond { get; init; }

    public int EffectiveJoiners => Joiners ?? ((Faults & FaultKinds.Membership) != 0 ? 2 : 0);

    /// <summary>Every node slot: the initial ring plus the joiners.</summary>
    public int TotalNodes => Nodes + EffectiveJoiners;

    public const int MaxNodes = 64;
    public const int MaxOperations = 10_000_000;

    /// <summary>Throws with a one-line message naming the bad option.</summary>
    public void Validate()
    {
        Require(Nodes is >= 1 and <= MaxNodes, $"--nodes must be in 1..{MaxNodes}, got {Nodes}");
        Require(Operations is >= 0 and <= MaxOperations, $"--ops must be in 0..{MaxOperations}, got {Operations}");
        Require(ReplicationFactor >= 1 && ReplicationFactor <= Math.Min(Nodes, Meteora.Engine.Limits.MaxReplicationFactor),
            $"--n must be in 1..{Math.Min(Nodes, Meteora.Engine.Limits.MaxReplicationFactor)} (at most --nodes), got {ReplicationFactor}");
        Require(ReadConsistency is null || (ReadConsistency >= 1 && ReadConsistency <= ReplicationFactor),
            $"--r must be in 1..{ReplicationFactor}, got {ReadConsistency}");
        Require(WriteConsistency is null || (WriteConsistency >= 1 && WriteConsistency <= ReplicationFactor),
            $"--w must be in 1..{ReplicationFactor}, got {WriteConsistency}");
        Require(StrictPercent is >= 0 and <= 100, $"--strict-percent must be in 0..100, got {StrictPercent}");
        Require(Clients is >= 1 and <= 10_000, $"--clients must be in 1..10000, got {Clients}");
        Require(Keys is >= 1 and <= 1_000_000, $"--keys must be in 1..1000000, got {Keys}");
        Require(Partitions >= 1 && Partitions <= Meteora.Engine.Limits.MaxPartitions && System.Numerics.BitOperations.IsPow2(Partitions),
            $"--partitions must be a power of two in 1..{Meteora.Engine.Limits.MaxPartitions}, got {Partitions}");
        Require(AntiEntropyIntervalMs is >= 0 and <= 3_600_000, $"--ae-interval-ms must be in 0..3600000, got {AntiEntropyIntervalMs}");
        Require(MerkleDepth is null or (>= 0 and <= 16), $"--merkle-depth must be in 0..16, got {MerkleDepth}");
        Require(Joiners is null or (>= 0 and <= 16), $"--joiners must be in 0..16, got {Joiners}");
        Require(TotalNodes <= MaxNodes, $"--nodes plus --joiners must be at most {MaxNodes}, got {TotalNodes}");
        Require(TombstoneGraceMs >= 1, $"--tombstone-grace-ms must be positive, got {TombstoneGraceMs}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new SimUsageException(message);
    }
}

/// <summary>Bad simulator options: the CLI prints the message on one line and exits 2.</summary>
public sealed class SimUsageException(string message) : Exception(message);

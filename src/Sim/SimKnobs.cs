using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Engine.Repair;

namespace Meteora.Sim;

/// <summary>
/// Engine limits and timeouts for one run (FoundationDB's knobs): drawn per seed from their own PRNG
/// stream within valid ranges, so sweeps also run the rarely taken paths — replies that cover only
/// part of a request, requeues, one-node hash batches, single-entry rebuild slices, a push window of
/// one. Each knob keeps its production default about half the time. With <c>--knobs default</c>
/// every knob is the production default (Merkle depth: the simulator's default, 2).
/// </summary>
public sealed record SimKnobs(RepairOptions Repair, long BuggifyDelayMs, FailureDetectorOptions Detector, long GossipIntervalMs, long StreamBytesPerSecond,
    Meteora.Engine.Handoff.HintOptions Hints)
{
    private static readonly long DefaultStreamBytesPerSecond = new NodeOptions { NodeId = 0 }.StreamBytesPerSecond;

    public const int DefaultMerkleDepth = 2;

    private static readonly long DefaultGossipIntervalMs = new NodeOptions { NodeId = 0 }.GossipIntervalMs;

    public static SimKnobs Create(ulong seed, SimOptions options)
    {
        var defaults = new RepairOptions();
        long repairTimeoutMs = Math.Max(50, options.RequestTimeoutMs);
        if (!options.DrawKnobs)
        {
            return new SimKnobs(Base(options, defaults, options.MerkleDepth ?? DefaultMerkleDepth, repairTimeoutMs), NodeOptions.DefaultBuggifyDelayMs, new FailureDetectorOptions(), DefaultGossipIntervalMs,
                options.StreamBytesPerSecond ?? DefaultStreamBytesPerSecond, new Meteora.Engine.Handoff.HintOptions());
        }
        SimRandom random = SimRandom.Stream(seed, "knobs");
        int depth = options.MerkleDepth ?? random.NextInt(0, 4);
        RepairOptions repair = Base(options, defaults, depth, Pick(random, repairTimeoutMs, 50, 200, 2_000)) with
        {
            MaxAttempts = Pick(random, defaults.MaxAttempts, 1, 2, 6),
            MaxConcurrentSessions = Pick(random, defaults.MaxConcurrentSessions, 1, 2, 16),
            SliceEntries = Pick(random, defaults.SliceEntries, 1, 3, 17),
            ReplyBudgetBytes = Pick(random, defaults.ReplyBudgetBytes, RepairOptions.MinReplyBudgetBytes, 300, 1_000),
            MaxNodesPerRequest = Pick(random, defaults.MaxNodesPerRequest, 1, 2, 3),
            MaxLeavesPerRequest = Pick(random, defaults.MaxLeavesPerRequest, 1, 2, 5),
            MaxKeysPerPull = Pick(random, defaults.MaxKeysPerPull, 1, 2, 7),
            MaxPushesInFlight = Pick(random, defaults.MaxPushesInFlight, 1, 2, 4),
        };
        long buggifyDelayMs = Pick(random, NodeOptions.DefaultBuggifyDelayMs, 1, 10, 400);
        var detectorDefaults = new FailureDetectorOptions();
        var detector = detectorDefaults with
        {
            // Short intervals and low thresholds make false suspicions (and fast 503s) common; long ones make them rare.
            HeartbeatIntervalMs = Pick(random, detectorDefaults.HeartbeatIntervalMs, 20, 50, 1_000),
            PhiThreshold = Pick(random, detectorDefaults.PhiThreshold, 1.5, 3, 16),
            WindowSize = Pick(random, detectorDefaults.WindowSize, 1, 4, 30),
        };
        long gossipIntervalMs = Pick(random, DefaultGossipIntervalMs, 20, 100, 5_000);
        // Drawn last, so adding it left every earlier knob of every seed unchanged.
        // Low enough that rounds wait for the budget, high enough that a simulated join (a few hundred KB)
        // finishes within the convergence deadline (at 4 KiB/s, membership seed 202 took 50 s to join).
        long streamRate = Pick(random, DefaultStreamBytesPerSecond, 32_768, 131_072, 1_048_576);
        return new SimKnobs(repair, buggifyDelayMs, detector, gossipIntervalMs, options.StreamBytesPerSecond ?? streamRate, DrawHints(random));
    }

    /// <summary>
    /// Hinted handoff knobs, drawn after every other knob (so adding them changed no earlier draw): short
    /// windows make hints expire while their target is down, tiny bounds make fallbacks refuse hints,
    /// slow rates and one-hint windows make replay crawl and interleave with new writes.
    /// </summary>
    private static Meteora.Engine.Handoff.HintOptions DrawHints(SimRandom random)
    {
        var defaults = new Meteora.Engine.Handoff.HintOptions();
        long perTarget = Pick(random, defaults.MaxBytesPerTarget, 1_024, 4_096, 65_536);
        return defaults with
        {
            WindowMs = Pick(random, defaults.WindowMs, 300, 1_000, 5_000),
            MaxBytesPerTarget = perTarget,
            MaxBytesTotal = perTarget == defaults.MaxBytesPerTarget ? defaults.MaxBytesTotal : perTarget * Pick(random, 1L, 2L, 8L),
            ReplayBytesPerSecond = Pick(random, defaults.ReplayBytesPerSecond, 1_024, 16_384, 262_144),
            MaxInFlightBytesPerTarget = Pick(random, defaults.MaxInFlightBytesPerTarget, 1_024, 4_096),
            ReplayTimeoutMs = Pick(random, defaults.ReplayTimeoutMs, 50, 300),
            TickMs = Pick(random, defaults.TickMs, 10, 500),
            MaxReplaysApplying = Pick(random, defaults.MaxReplaysApplying, 1, 3),
        };
    }

    private static RepairOptions Base(SimOptions options, RepairOptions defaults, int depth, long repairTimeoutMs) => defaults with
    {
        AntiEntropyIntervalMs = options.AntiEntropyIntervalMs,
        MerkleDepth = depth,
        TombstoneGraceMs = options.TombstoneGraceMs,
        RequestTimeoutMs = repairTimeoutMs,
    };

    /// <summary>The default half the time, else one of the rare values.</summary>
    private static T Pick<T>(SimRandom random, T fallback, params T[] rare) =>
        random.NextInt(2) == 0 ? fallback : rare[random.NextInt(rare.Length)];

    public void WriteJson(System.Text.Json.Utf8JsonWriter json)
    {
        json.WriteStartObject("knobs");
        json.WriteNumber("merkleDepth", Repair.MerkleDepth);
        json.WriteNumber("repairTimeoutMs", Repair.RequestTimeoutMs);
        json.WriteNumber("repairAttempts", Repair.MaxAttempts);
        json.WriteNumber("repairSessions", Repair.MaxConcurrentSessions);
        json.WriteNumber("sliceEntries", Repair.SliceEntries);
        json.WriteNumber("replyBudgetBytes", Repair.ReplyBudgetBytes);
        json.WriteNumber("nodesPerRequest", Repair.MaxNodesPerRequest);
        json.WriteNumber("leavesPerRequest", Repair.MaxLeavesPerRequest);
        json.WriteNumber("keysPerPull", Repair.MaxKeysPerPull);
        json.WriteNumber("pushesInFlight", Repair.MaxPushesInFlight);
        json.WriteNumber("buggifyDelayMs", BuggifyDelayMs);
        json.WriteNumber("heartbeatIntervalMs", Detector.HeartbeatIntervalMs);
        json.WriteNumber("phiThreshold", Detector.PhiThreshold);
        json.WriteNumber("phiWindow", Detector.WindowSize);
        json.WriteNumber("gossipIntervalMs", GossipIntervalMs);
        json.WriteNumber("streamBytesPerSecond", StreamBytesPerSecond);
        json.WriteNumber("hintWindowMs", Hints.WindowMs);
        json.WriteNumber("hintBytesPerTarget", Hints.MaxBytesPerTarget);
        json.WriteNumber("hintBytesTotal", Hints.MaxBytesTotal);
        json.WriteNumber("hintReplayBytesPerSecond", Hints.ReplayBytesPerSecond);
        json.WriteNumber("hintInFlightBytesPerTarget", Hints.MaxInFlightBytesPerTarget);
        json.WriteNumber("hintReplayTimeoutMs", Hints.ReplayTimeoutMs);
        json.WriteNumber("hintTickMs", Hints.TickMs);
        json.WriteNumber("hintReplaysApplying", Hints.MaxReplaysApplying);
        json.WriteEndObject();
    }
}

namespace Meteora.Engine.Handoff;

/// <summary>Hinted handoff limits and intervals. Every number is bounded by <see cref="Validate"/>.</summary>
public sealed record HintOptions
{
    /// <summary>A hint older than this (from when it was stored) is dropped and counted: anti-entropy covers what it carried (Cassandra's max_hint_window, 3 h).</summary>
    public long WindowMs { get; init; } = 3L * 3600 * 1000;

    /// <summary>Hint bytes one node holds for one target; a hinted write beyond it is refused (the slot counts as failed).</summary>
    public long MaxBytesPerTarget { get; init; } = 64L * 1024 * 1024;

    /// <summary>Hint bytes one node holds in total. Hints live on disk and, for replay, in memory: this bounds both.</summary>
    public long MaxBytesTotal { get; init; } = 256L * 1024 * 1024;

    /// <summary>Replay rate of one node, all targets together (plus one burst), so a recovering node is not flooded.</summary>
    public long ReplayBytesPerSecond { get; init; } = 4L * 1024 * 1024;

    /// <summary>Hint bytes sent to one target and not yet acked (the bound against hint storms).</summary>
    public long MaxInFlightBytesPerTarget { get; init; } = 256 * 1024;

    /// <summary>
    /// Replayed hints a node applies at once, from all its fallbacks together; beyond it a replay is refused
    /// (the fallback tries again later). The per-fallback bounds above do not add up across fallbacks: this
    /// one bounds what a recovering node takes on, whatever the number of nodes holding hints for it.
    /// </summary>
    public int MaxReplaysApplying { get; init; } = 1024;

    /// <summary>A replayed hint not acked within this is sent again later.</summary>
    public long ReplayTimeoutMs { get; init; } = 2_000;

    /// <summary>How often the handoff room looks for targets that came back and for expired hints.</summary>
    public long TickMs { get; init; } = 100;

    public const long MaxWindowMs = 30L * 24 * 3600 * 1000;
    public const long MaxBytesLimit = 1L << 40;

    public void Validate()
    {
        Check(WindowMs is >= 1 and <= MaxWindowMs, $"WindowMs must be in 1..{MaxWindowMs}");
        Check(MaxBytesPerTarget is >= 1024 and <= MaxBytesLimit, $"MaxBytesPerTarget must be in 1024..{MaxBytesLimit}");
        Check(MaxBytesTotal >= MaxBytesPerTarget && MaxBytesTotal <= MaxBytesLimit, $"MaxBytesTotal must be in {MaxBytesPerTarget} (MaxBytesPerTarget)..{MaxBytesLimit}");
        Check(ReplayBytesPerSecond is >= 1024 and <= 10L * 1024 * 1024 * 1024, "ReplayBytesPerSecond must be in 1024..10737418240");
        Check(MaxInFlightBytesPerTarget is >= 1024 and <= 1L << 30, "MaxInFlightBytesPerTarget must be in 1024..1073741824");
        Check(ReplayTimeoutMs is >= 1 and <= 600_000, "ReplayTimeoutMs must be in 1..600000");
        Check(MaxReplaysApplying is >= 1 and <= Limits.MaxInFlightStorageOps, $"MaxReplaysApplying must be in 1..{Limits.MaxInFlightStorageOps}");
        Check(TickMs is >= 1 and <= 60_000, "TickMs must be in 1..60000");
    }

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentOutOfRangeException(nameof(HintOptions), message);
    }
}

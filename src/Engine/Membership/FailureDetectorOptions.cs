namespace Meteora.Engine.Membership;

/// <summary>Heartbeats and the phi accrual detector's settings.</summary>
public sealed record FailureDetectorOptions
{
    /// <summary>Each node sends every peer a heartbeat this often.</summary>
    public long HeartbeatIntervalMs { get; init; } = 200;

    /// <summary>A peer whose phi exceeds this is down (Cassandra's default is 8).</summary>
    public double PhiThreshold { get; init; } = 8;

    /// <summary>Heartbeat intervals remembered per peer for the mean.</summary>
    public int WindowSize { get; init; } = 1000;

    /// <summary>A gap longer than this many intervals is an outage and is not averaged in.</summary>
    public int MaxSampleIntervals { get; init; } = 10;

    public const long MaxHeartbeatIntervalMs = 60_000;

    public void Validate()
    {
        if (HeartbeatIntervalMs < 1 || HeartbeatIntervalMs > MaxHeartbeatIntervalMs)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatIntervalMs), HeartbeatIntervalMs, $"heartbeat interval must be in 1..{MaxHeartbeatIntervalMs} ms");
        }
        if (!(PhiThreshold >= 1 && PhiThreshold <= 100)) throw new ArgumentOutOfRangeException(nameof(PhiThreshold), PhiThreshold, "phi threshold must be in 1..100");
        if (WindowSize < 1 || WindowSize > PhiAccrual.MaxWindowSize)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"window must be in 1..{PhiAccrual.MaxWindowSize}");
        }
        if (MaxSampleIntervals < 1 || MaxSampleIntervals > 1000) throw new ArgumentOutOfRangeException(nameof(MaxSampleIntervals), MaxSampleIntervals, "must be in 1..1000");
    }
}

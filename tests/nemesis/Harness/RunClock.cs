using System.Diagnostics;

namespace Meteora.Nemesis;

/// <summary>
/// The harness's one clock for the history: monotonic, so invocation and completion times of all
/// operations compare in real time order (the nodes' own clocks may be skewed by the nemesis).
/// Reported as microseconds since the Unix epoch, starting from the true time at the run's start.
/// </summary>
internal sealed class RunClock
{
    private readonly long _startTicks = Stopwatch.GetTimestamp();

    public long EpochMicros { get; } = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;

    public long NowMicros => EpochMicros + (long)Stopwatch.GetElapsedTime(_startTicks).TotalMicroseconds;

    public long ElapsedMs => (long)Stopwatch.GetElapsedTime(_startTicks).TotalMilliseconds;
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>
/// Logs at most one warning per interval and counts the rest, so a flood of bad connections (a scanner,
/// a misconfigured peer retrying every 50 ms) cannot fill the disk with log lines.
/// </summary>
public sealed class RateLimitedLog(ILogger logger, long intervalMs)
{
    public const long DefaultIntervalMs = 10_000;

    private readonly Lock _gate = new();
    private long _lastLoggedTicks = long.MinValue;
    private long _suppressed;

    public void Warn(string line)
    {
        if (intervalMs <= 0) throw new InvalidOperationException("the log interval must be positive");
        long suppressed;
        lock (_gate)
        {
            long now = Stopwatch.GetTimestamp();
            bool due = _lastLoggedTicks == long.MinValue
                || Stopwatch.GetElapsedTime(_lastLoggedTicks, now).TotalMilliseconds >= intervalMs;
            if (!due)
            {
                _suppressed++;
                return;
            }
            _lastLoggedTicks = now;
            suppressed = _suppressed;
            _suppressed = 0;
        }
        if (suppressed == 0) logger.LogWarning("{Line}", line);
        else logger.LogWarning("{Line} ({Suppressed} similar lines suppressed in the last {IntervalMs} ms)", line, suppressed, intervalMs);
    }
}

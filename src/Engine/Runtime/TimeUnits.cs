namespace Meteora.Engine.Runtime;

/// <summary>
/// The engine's one time unit is the microsecond (clock readings, timer delays, versions).
/// Settings stay in milliseconds for people; this is the one place they are converted.
/// </summary>
public static class TimeUnits
{
    public const long MicrosPerMs = 1000;

    public static long MsToMicros(long ms)
    {
        if (ms < 0 || ms > long.MaxValue / MicrosPerMs) throw new ArgumentOutOfRangeException(nameof(ms), ms, "duration out of range");
        return ms * MicrosPerMs;
    }
}

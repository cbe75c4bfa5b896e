using Meteora.Engine.Runtime;

namespace Meteora.Net.Runtime;

/// <summary>Wall-clock microseconds since the Unix epoch; the engine makes versions monotonic on top of it.</summary>
public sealed class SystemClock : IClock
{
    public long NowMicros => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / (TimeSpan.TicksPerMillisecond / 1000);
}

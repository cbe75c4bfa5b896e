using Meteora.Engine.Runtime;

namespace Meteora.Engine.Versioning;

/// <summary>
/// Issues versions for writes this node coordinates: a hybrid logical clock in the spirit of
/// Kulkarni et al., "Logical Physical Clocks" (2014), reduced to one 64-bit microsecond counter:
/// next = max(physical now, last issued or observed + 1). Strictly monotonic per node even if the
/// injected clock stalls or steps backwards, and never behind a version this node has seen.
/// </summary>
public sealed class VersionClock
{
    private readonly IClock _clock;
    private readonly uint _node;
    private long _lastMicros;

    public VersionClock(IClock clock, uint node)
    {
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        _node = node;
    }

    public WriteVersion Next()
    {
        long now = _clock.NowMicros;
        _lastMicros = Math.Max(now, _lastMicros + 1);
        return new WriteVersion(_lastMicros, _node);
    }

    /// <summary>Moves the clock past a version seen from elsewhere, so later writes here order after it.</summary>
    public void Observe(WriteVersion seen)
    {
        if (seen.TimestampMicros > _lastMicros) _lastMicros = seen.TimestampMicros;
    }
}

namespace Meteora.Engine.Handoff;

/// <summary>
/// A token bucket over bytes: refilled at <c>bytesPerSecond</c> by the injected clock's time, holding at
/// most one burst (a quarter second's worth, at least 4 KiB). A send may overdraw by one hint, so a hint
/// larger than the burst still goes out; the debt delays the next ones.
/// </summary>
internal sealed class ReplayThrottle(long bytesPerSecond)
{
    private readonly long _burstBytes = Math.Max(4096, bytesPerSecond / 4);
    private long _available = Math.Max(4096, bytesPerSecond / 4);
    private long _lastMicros = -1;

    public bool CanSend => _available > 0;

    public void Refill(long nowMicros)
    {
        if (_lastMicros >= 0 && nowMicros > _lastMicros)
        {
            long earned = (long)Math.Min(_burstBytes, (double)(nowMicros - _lastMicros) * bytesPerSecond / 1_000_000);
            _available = Math.Min(_burstBytes, _available + earned);
        }
        if (nowMicros > _lastMicros) _lastMicros = nowMicros;
    }

    public void Spend(long bytes) => _available -= bytes;
}

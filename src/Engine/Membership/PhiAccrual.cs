namespace Meteora.Engine.Membership;

/// <summary>
/// The phi accrual failure detector for one peer (Hayashibara, Défago, Yared and Katayama, "The φ
/// Accrual Failure Detector", SRDS 2004): instead of a yes/no verdict it reports a suspicion level
/// φ = -log10(P(a heartbeat arrives later than now)). Inter-arrival times are modelled as exponential,
/// as Cassandra does, so P_later(t) = e^(-t/mean) and φ(t) = t / (mean · ln 10): with heartbeats every
/// 200 ms, φ reaches 8 about 3.7 s after the last one. A fixed window of recent intervals gives the
/// mean; it starts with one prior sample (the configured interval) so φ is defined from the first moment.
/// Pure: times come in as arguments.
/// </summary>
public sealed class PhiAccrual
{
    private static readonly double Ln10 = Math.Log(10);

    private readonly long[] _intervalsMicros;
    private readonly long _maxSampleMicros;
    private int _count;
    private int _next;
    private long _sumMicros;
    private long _lastArrivalMicros;

    /// <param name="windowSize">Intervals remembered (Cassandra keeps 1000).</param>
    /// <param name="priorIntervalMicros">The expected interval, the window's first sample.</param>
    /// <param name="maxSampleMicros">Longer gaps are outages, not jitter: they end suspicion but are not averaged in.</param>
    /// <param name="startMicros">Treated as the last arrival until the first heartbeat.</param>
    public PhiAccrual(int windowSize, long priorIntervalMicros, long maxSampleMicros, long startMicros)
    {
        if (windowSize < 1 || windowSize > MaxWindowSize) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, $"window must be in 1..{MaxWindowSize}");
        if (priorIntervalMicros < 1) throw new ArgumentOutOfRangeException(nameof(priorIntervalMicros), priorIntervalMicros, "must be positive");
        if (maxSampleMicros < priorIntervalMicros) throw new ArgumentOutOfRangeException(nameof(maxSampleMicros), maxSampleMicros, "must be at least the prior interval");
        _intervalsMicros = new long[windowSize];
        _maxSampleMicros = maxSampleMicros;
        _lastArrivalMicros = startMicros;
        Add(priorIntervalMicros);
    }

    public const int MaxWindowSize = 10_000;

    public long LastArrivalMicros => _lastArrivalMicros;

    public int SampleCount => _count;

    public double MeanIntervalMicros => (double)_sumMicros / _count;

    public void Heartbeat(long nowMicros)
    {
        long interval = nowMicros - _lastArrivalMicros;
        // A clock that stepped back, or two heartbeats in one instant: keep the arrival, skip the sample.
        if (interval >= 1 && interval <= _maxSampleMicros) Add(interval);
        if (nowMicros > _lastArrivalMicros) _lastArrivalMicros = nowMicros;
    }

    public double Phi(long nowMicros)
    {
        long since = nowMicros - _lastArrivalMicros;
        if (since <= 0) return 0;
        return since / (MeanIntervalMicros * Ln10);
    }

    private void Add(long intervalMicros)
    {
        if (_count == _intervalsMicros.Length) _sumMicros -= _intervalsMicros[_next];
        else _count++;
        _intervalsMicros[_next] = intervalMicros;
        _sumMicros += intervalMicros;
        _next = (_next + 1) % _intervalsMicros.Length;
    }

    /// <summary>Recomputes the window's sum; throws if the running sum drifted.</summary>
    public void CheckInvariants()
    {
        long sum = 0;
        for (int i = 0; i < _count; i++) sum += _intervalsMicros[(_next - 1 - i + _intervalsMicros.Length) % _intervalsMicros.Length];
        if (sum != _sumMicros) throw new InvalidOperationException($"phi window sum is {_sumMicros}, recomputed {sum}");
        if (_count < 1 || _count > _intervalsMicros.Length) throw new InvalidOperationException($"phi window holds {_count} samples");
    }
}

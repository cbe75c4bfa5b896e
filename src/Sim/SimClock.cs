using Meteora.Engine.Runtime;

namespace Meteora.Sim;

/// <summary>
/// One node's view of time: virtual time plus an offset (jumps), a drift rate in parts per million,
/// and a resolution (a coarse clock makes equal timestamps likely). May go backwards on a jump,
/// as real clocks do; the engine's version clock must cope.
/// </summary>
internal sealed class SimClock(SimCluster cluster) : IClock
{
    private long _offsetMicros;
    private int _driftPpm;
    private long _driftAnchorMicros = SimCluster.EpochMicros;
    private long _driftAccumulatedMicros;
    private long _resolutionMicros = 1;

    public long NowMicros
    {
        get
        {
            long now = cluster.NowMicros;
            long drift = _driftAccumulatedMicros + (now - _driftAnchorMicros) * _driftPpm / 1_000_000;
            long local = now + _offsetMicros + drift;
            return local - local % _resolutionMicros;
        }
    }

    public void Apply(ClockFault fault)
    {
        long now = cluster.NowMicros;
        _driftAccumulatedMicros += (now - _driftAnchorMicros) * _driftPpm / 1_000_000;
        _driftAnchorMicros = now;
        _driftPpm = fault.DriftPpm;
        _offsetMicros += fault.JumpMs * 1000;
        _resolutionMicros = Math.Max(1, fault.ResolutionMicros);
    }
}

using System.Diagnostics;

namespace Meteora.Bench;

/// <summary>Per-worker latency samples (Stopwatch ticks), merged once at the end: no locks while measuring.</summary>
public sealed class LatencyRecorder
{
    private readonly List<long>[] _perWorker;

    public LatencyRecorder(int workers)
    {
        _perWorker = new List<long>[workers];
        for (int i = 0; i < workers; i++) _perWorker[i] = new List<long>(1 << 16);
    }

    public void Record(int worker, long ticks) => _perWorker[worker].Add(ticks);

    public PhaseResult Summarize(string name, double elapsedSeconds, long errors)
    {
        var all = new List<long>();
        foreach (List<long> samples in _perWorker) all.AddRange(samples);
        all.Sort();
        return new PhaseResult(name, all.Count, errors, elapsedSeconds, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(List<long> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        int index = (int)Math.Min(sorted.Count - 1, Math.Ceiling(q * sorted.Count) - 1);
        return sorted[Math.Max(0, index)] * 1_000_000.0 / Stopwatch.Frequency;
    }
}

/// <summary>One measured phase: operations, errors, throughput and latency percentiles in microseconds.</summary>
public sealed record PhaseResult(string Name, long Operations, long Errors, double ElapsedSeconds, double P50Micros, double P99Micros)
{
    public double OpsPerSecond => Operations / ElapsedSeconds;
}

namespace Meteora.Checking;

/// <summary>
/// The acknowledged writes of one key sorted by completion time, with a running maximum per W
/// threshold, so "the newest write acknowledged at W >= w before time t" costs one binary search.
/// </summary>
internal sealed class FreshnessIndex
{
    private readonly long[] _completeMicros;
    // _newest[w][i]: the newest write among the first i+1 (by completion) acknowledged at W >= w.
    private readonly OpRecord?[][] _newest;

    public FreshnessIndex(List<OpRecord> writes, int replicationFactor)
    {
        writes.Sort((a, b) => a.CompleteMicros.CompareTo(b.CompleteMicros));
        _completeMicros = new long[writes.Count];
        _newest = new OpRecord?[replicationFactor + 2][];
        for (int w = 0; w < _newest.Length; w++) _newest[w] = new OpRecord?[writes.Count];
        for (int i = 0; i < writes.Count; i++)
        {
            _completeMicros[i] = writes[i].CompleteMicros;
            for (int w = 0; w < _newest.Length; w++)
            {
                OpRecord? best = i > 0 ? _newest[w][i - 1] : null;
                if (writes[i].Consistency >= w && (best is null || writes[i].ResultVersion > best.ResultVersion)) best = writes[i];
                _newest[w][i] = best;
            }
        }
    }

    public OpRecord? NewestAckedBefore(long invokeMicros, int minW)
    {
        if (minW >= _newest.Length) return null;
        int lo = 0, hi = _completeMicros.Length; // first index with complete >= invoke
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_completeMicros[mid] < invokeMicros) lo = mid + 1;
            else hi = mid;
        }
        return lo == 0 ? null : _newest[Math.Max(0, minW)][lo - 1];
    }

    /// <summary>Acknowledged writes grouped by key, in history order within a key.</summary>
    public static Dictionary<string, List<OpRecord>> AckedByKey(IReadOnlyList<OpRecord> ops)
    {
        var ackedByKey = new Dictionary<string, List<OpRecord>>(StringComparer.Ordinal);
        foreach (OpRecord op in ops)
        {
            if (!op.Acknowledged) continue;
            if (!ackedByKey.TryGetValue(op.Key, out var list)) ackedByKey[op.Key] = list = [];
            list.Add(op);
        }
        return ackedByKey;
    }
}

namespace Meteora.Engine.Handoff;

/// <summary>One hint as the handoff room tracks it: durable yet, and the replay in flight for it (0: none).</summary>
internal sealed class HintEntry(Hint hint, bool durable)
{
    public Hint Hint { get; } = hint;
    public bool Durable { get; set; } = durable;
    public long ReplayRequest { get; set; }
}

/// <summary>
/// The hints a node holds, in memory as on disk: per target in sequence order (the replay order), with
/// byte totals per target and overall (the bounds), and for each key the newest hint (a fallback
/// answers sloppy reads from it). Pure bookkeeping: no disk, no clock.
/// </summary>
internal sealed class HintLog
{
    private readonly SortedDictionary<int, SortedDictionary<long, HintEntry>> _byTarget = new();
    private readonly Dictionary<int, long> _bytesByTarget = new();
    private readonly Dictionary<string, HintEntry> _newestByKey = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public long Bytes { get; private set; }

    public long BytesFor(int target) => _bytesByTarget.GetValueOrDefault(target);

    public int CountFor(int target) => _byTarget.TryGetValue(target, out var queue) ? queue.Count : 0;

    /// <summary>Targets with hints, ascending (a deterministic order).</summary>
    public IEnumerable<int> Targets => _byTarget.Keys;

    /// <summary>A target's hints, oldest first.</summary>
    public IEnumerable<HintEntry> Queue(int target) =>
        _byTarget.TryGetValue(target, out var queue) ? queue.Values : [];

    /// <summary>The newest hint held for <paramref name="key"/>, for any target.</summary>
    public Hint? NewestFor(string key) => _newestByKey.TryGetValue(key, out HintEntry? entry) ? entry.Hint : null;

    public void Add(HintEntry entry)
    {
        Hint hint = entry.Hint;
        if (!_byTarget.TryGetValue(hint.Target, out var queue)) _byTarget[hint.Target] = queue = new SortedDictionary<long, HintEntry>();
        if (!queue.TryAdd(hint.Sequence, entry)) throw new InvalidOperationException($"hint {hint.Target}/{hint.Sequence} is held twice");
        _bytesByTarget[hint.Target] = BytesFor(hint.Target) + hint.SizeBytes;
        Bytes += hint.SizeBytes;
        Count++;
        if (!_newestByKey.TryGetValue(hint.Key, out HintEntry? newest) || Versioning.VersionOrder.Lww.Newer(hint.AsStoredValue(), newest.Hint.AsStoredValue()))
        {
            _newestByKey[hint.Key] = entry;
        }
    }

    public void Remove(HintEntry entry)
    {
        Hint hint = entry.Hint;
        if (!_byTarget.TryGetValue(hint.Target, out var queue) || !queue.Remove(hint.Sequence))
        {
            throw new InvalidOperationException($"hint {hint.Target}/{hint.Sequence} is not held");
        }
        if (queue.Count == 0) _byTarget.Remove(hint.Target);
        long left = BytesFor(hint.Target) - hint.SizeBytes;
        if (left == 0) _bytesByTarget.Remove(hint.Target);
        else _bytesByTarget[hint.Target] = left;
        Bytes -= hint.SizeBytes;
        Count--;
        // The key's older hints (if any) are not searched for: a sloppy read may then miss them, which it is allowed to.
        if (_newestByKey.TryGetValue(hint.Key, out HintEntry? newest) && ReferenceEquals(newest, entry)) _newestByKey.Remove(hint.Key);
    }

    /// <summary>Totals agree with the queues; no target exceeds <paramref name="maxPerTarget"/> nor the whole <paramref name="maxTotal"/>.</summary>
    public void CheckInvariants(long maxPerTarget, long maxTotal)
    {
        if (Bytes > maxTotal) throw new InvalidOperationException($"{Bytes} hint bytes exceed the bound {maxTotal}");
        long bytes = 0;
        int count = 0;
        foreach (var (target, queue) in _byTarget)
        {
            long targetBytes = 0;
            foreach (HintEntry entry in queue.Values) targetBytes += entry.Hint.SizeBytes;
            if (targetBytes != BytesFor(target)) throw new InvalidOperationException($"target {target}: {targetBytes} hint bytes held, {BytesFor(target)} counted");
            if (targetBytes > maxPerTarget) throw new InvalidOperationException($"target {target}: {targetBytes} hint bytes exceed the bound {maxPerTarget}");
            bytes += targetBytes;
            count += queue.Count;
        }
        if (bytes != Bytes || count != Count) throw new InvalidOperationException($"{count} hints of {bytes} bytes held, {Count} of {Bytes} counted");
    }
}

using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>
/// Repair-based tombstone GC (after ScyllaDB's "tombstone_gc: repair" mode). Time alone is not
/// enough: a replica that missed a delete for longer than the grace period would hand the old value
/// back to replicas that had purged the tombstone — a resurrection (seen in the simulator under long
/// lossy periods). So each partition keeps its tombstones in arrival order, stamped with a local
/// sequence number, and a tombstone may go only when it is past its grace period AND a repair round
/// that started after it arrived has succeeded with every peer replica of the partition: every
/// replica then holds it (or something newer). Memory: one small entry per live tombstone; after a
/// restart the Merkle rebuild re-logs the tombstones it finds.
/// </summary>
internal sealed class TombstoneLog
{
    private readonly SortedDictionary<int, Queue<(string Key, WriteVersion Version, long Sequence)>> _byPartition = new();
    private readonly Dictionary<int, long> _repairedFrom = new();
    private long _sequence;
    private int _count;

    /// <summary>Tombstones not logged because the log was full: kept on disk, never purged early, re-logged by a restart's rebuild.</summary>
    public long Untracked { get; private set; }

    public int Count => _count;

    /// <summary>A local, strictly increasing stamp (clocks may jump; this may not).</summary>
    public long NextSequence() => ++_sequence;

    public void OnTombstoneArrived(int partition, string key, WriteVersion version)
    {
        if (_count >= Limits.MaxTrackedTombstones)
        {
            Untracked++;
            return;
        }
        _count++;
        if (!_byPartition.TryGetValue(partition, out var queue)) _byPartition[partition] = queue = new();
        queue.Enqueue((key, version, NextSequence()));
    }

    /// <summary>A repair round that started at <paramref name="startSequence"/> succeeded with every peer of the partition.</summary>
    public void OnPartitionRepaired(int partition, long startSequence)
    {
        if (!_repairedFrom.TryGetValue(partition, out long known) || startSequence > known) _repairedFrom[partition] = startSequence;
    }

    /// <summary>
    /// Tombstones that may be purged now, oldest arrival first, at most <paramref name="max"/>. The
    /// caller checks each still holds exactly that tombstone. Stops at the first one not yet eligible,
    /// so a young tombstone holds back later arrivals (conservative, never early).
    /// </summary>
    public List<(int Partition, string Key, WriteVersion Version)> TakeEligible(long cutoffMicros, int max)
    {
        var eligible = new List<(int, string, WriteVersion)>();
        foreach (var (partition, queue) in _byPartition)
        {
            long repairedFrom = _repairedFrom.GetValueOrDefault(partition);
            while (eligible.Count < max && queue.TryPeek(out var head)
                   && head.Sequence < repairedFrom && head.Version.TimestampMicros < cutoffMicros)
            {
                queue.Dequeue();
                _count--;
                eligible.Add((partition, head.Key, head.Version));
            }
            if (eligible.Count >= max) break;
        }
        return eligible;
    }
}

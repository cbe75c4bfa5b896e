using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>
/// Repair-based tombstone GC (after ScyllaDB's "tombstone_gc: repair" mode). Time alone is not
/// enough: a replica that missed a delete for longer than the grace period would hand the old value
/// back to replicas that had purged the tombstone — a resurrection (seen in the simulator under long
/// lossy periods). So each partition keeps its tombstones in arrival order, stamped with a local
/// sequence number, and a tombstone may go only when a repair round that started after it arrived
/// has succeeded with every peer replica of the partition (every replica then holds it, or something
/// newer) AND it is past its grace period.
/// <para>
/// The two conditions are checked in two stages, because only the first follows arrival order: a
/// tombstone written by a coordinator whose clock ran ahead carries a timestamp in the future, and
/// waiting for it at the head of the arrival queue held back every later tombstone of its partition
/// (simulator seed 125: one replica purged a minute after the others and the replicas did not
/// converge in time). Repaired tombstones therefore move to a queue ordered by timestamp.
/// </para>
/// Memory: one small entry per live tombstone; after a restart the Merkle rebuild re-logs the
/// tombstones it finds.
/// </summary>
internal sealed class TombstoneLog
{
    /// <summary>Entries moved from the arrival queues to the grace queue per call, times the purge batch.</summary>
    private const int MovesPerEligible = 4;

    /// <summary>
    /// Per partition, in partition order. A sorted list walked by index: enumerating a sorted
    /// dictionary allocates a stack every time, and this is walked on every purge tick (issue 11).
    /// </summary>
    private readonly SortedList<int, Queue<(string Key, WriteVersion Version, long Sequence)>> _awaitingRepair = new();
    private readonly PriorityQueue<(int Partition, string Key, WriteVersion Version), (long TimestampMicros, long Sequence)> _awaitingGrace = new();
    private readonly Dictionary<int, long> _repairedFrom = new();
    private readonly List<(int Partition, string Key, WriteVersion Version)> _eligible = new();
    private long _sequence;
    private int _count;

    public int Count => _count;

    /// <summary>A local, strictly increasing stamp (clocks may jump; this may not).</summary>
    public long NextSequence() => ++_sequence;

    public void OnTombstoneArrived(int partition, string key, WriteVersion version)
    {
        // A full log leaves the tombstone on disk, never purged early; a restart's rebuild logs it again.
        if (_count >= Limits.MaxTrackedTombstones) return;
        _count++;
        if (!_awaitingRepair.TryGetValue(partition, out var queue)) _awaitingRepair[partition] = queue = new();
        queue.Enqueue((key, version, NextSequence()));
    }

    /// <summary>
    /// The partition's data is dropped (handed off to its new replicas): its tombstones leave the log.
    /// Those already waiting for their grace period stay queued; their purge finds nothing to remove.
    /// </summary>
    public void Forget(int partition)
    {
        int index = _awaitingRepair.IndexOfKey(partition);
        if (index >= 0)
        {
            _count -= _awaitingRepair.GetValueAtIndex(index).Count;
            _awaitingRepair.RemoveAt(index);
        }
        _repairedFrom.Remove(partition);
    }

    /// <summary>A repair round that started at <paramref name="startSequence"/> succeeded with every peer of the partition.</summary>
    public void OnPartitionRepaired(int partition, long startSequence)
    {
        if (!_repairedFrom.TryGetValue(partition, out long known) || startSequence > known) _repairedFrom[partition] = startSequence;
    }

    /// <summary>
    /// Tombstones that may be purged now, at most <paramref name="max"/>, oldest timestamp first. The
    /// caller checks each still holds exactly that tombstone.
    /// </summary>
    /// <remarks><paramref name="more"/>: this bounded step stopped with work left (call again soon). The list is reused: valid until the next call.</remarks>
    public List<(int Partition, string Key, WriteVersion Version)> TakeEligible(long cutoffMicros, int max, out bool more)
    {
        bool movesLeft = MoveRepaired(MovesPerEligible * max);
        List<(int Partition, string Key, WriteVersion Version)> eligible = _eligible;
        eligible.Clear();
        while (eligible.Count < max && _awaitingGrace.TryPeek(out var entry, out var due) && due.TimestampMicros < cutoffMicros)
        {
            _awaitingGrace.Dequeue();
            _count--;
            eligible.Add(entry);
        }
        more = movesLeft || eligible.Count == max;
        return eligible;
    }

    /// <summary>Moves tombstones that every replica is known to hold, in arrival order, to the grace queue; true if it stopped at the bound.</summary>
    private bool MoveRepaired(int maxMoves)
    {
        int moved = 0;
        for (int i = 0; i < _awaitingRepair.Count; i++)
        {
            int partition = _awaitingRepair.GetKeyAtIndex(i);
            Queue<(string Key, WriteVersion Version, long Sequence)> queue = _awaitingRepair.GetValueAtIndex(i);
            long repairedFrom = _repairedFrom.GetValueOrDefault(partition);
            while (moved < maxMoves && queue.TryPeek(out var head) && head.Sequence < repairedFrom)
            {
                queue.Dequeue();
                _awaitingGrace.Enqueue((partition, head.Key, head.Version), (head.Version.TimestampMicros, head.Sequence));
                moved++;
            }
            if (moved >= maxMoves) return true;
        }
        return false;
    }
}

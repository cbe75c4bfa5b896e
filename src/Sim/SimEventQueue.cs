using System.Runtime.CompilerServices;

namespace Meteora.Sim;

/// <summary>
/// The simulator's global event queue, ordered by (virtual time, sequence). Sequences are unique,
/// so the order is total and every implementation pops the same events in the same order (trace
/// hashes do not depend on it).
/// <para>
/// A 4-ary min-heap of small blittable entries (time, sequence, slot); the events themselves stay in
/// a slot array and are touched once when queued and once when taken. With events inside the heap
/// (as with <see cref="PriorityQueue{TElement,TPriority}"/>), every sift step moved ~60 bytes
/// holding object references, each move a GC write barrier: the queue was ~14 % of a run's time
/// (issue 11, perf). Here a step moves 16 bytes and no references: the sequence and the slot share
/// one word (sequence in the high 40 bits, so comparing the word compares sequences), and a node's
/// four children fill one 64-byte cache line.
/// </para>
/// <para>
/// Beside the heap, one FIFO lane for far-future events queued in order. Most of a run's pending
/// events are the coordinators' request timers, all set the same delay ahead, so they arrive
/// already sorted: ~3,800 of ~4,150 pending events in `run --seed 1 --nodes 5 --ops 100000`. In the
/// lane they cost O(1) each way and leave the heap ~10x smaller. An event goes to the lane when it is
/// due at least <c>laneMinDelayMicros</c> after the last event taken and sorts after the lane's
/// tail; anything else goes to the heap. The lane stays sorted, so taking the smaller of the two
/// heads pops exactly the (time, sequence) order of one heap.
/// </para>
/// </summary>
internal sealed class SimEventQueue
{
    private const int Arity = 4;
    private const int InitialCapacity = 1024;
    private const int SlotBits = 24;

    /// <summary>Events queued at once: a slot index fits in <see cref="SlotBits"/> bits.</summary>
    public const int MaxQueued = 1 << SlotBits;

    /// <summary>Sequences fit in the 40 bits above the slot (10^12 events, far beyond any run's event limit).</summary>
    public const long MaxSequence = (1L << (64 - SlotBits)) - 1;

    private readonly long _laneMinDelayMicros;
    private Entry[] _heap = new Entry[InitialCapacity];
    private int _heapCount;
    private Entry[] _lane = new Entry[InitialCapacity];
    private int _laneHead;
    private int _laneCount;
    private long _lastTakenMicros;
    private SimEvent[] _events = new SimEvent[InitialCapacity];
    private int[] _freeSlots = new int[InitialCapacity];
    private int _freeCount;
    private int _slotsUsed;

    /// <param name="laneMinDelayMicros">How far ahead of the last event taken an event must be due to use the lane; <see cref="long.MaxValue"/>: never.</param>
    public SimEventQueue(long laneMinDelayMicros = long.MaxValue)
    {
        if (laneMinDelayMicros < 0) throw new ArgumentOutOfRangeException(nameof(laneMinDelayMicros), laneMinDelayMicros, "the lane's delay must be non-negative");
        _laneMinDelayMicros = laneMinDelayMicros;
    }

    public int Count => _heapCount + _laneCount;

    /// <summary>Events waiting in the in-order lane (the rest are in the heap).</summary>
    public int LaneCount => _laneCount;

    public void Enqueue(SimEvent ev, long timeMicros, long sequence)
    {
        if ((ulong)sequence > MaxSequence) ThrowBadSequence(sequence);
        if (Count == MaxQueued) ThrowFull();
        int slot = TakeSlot();
        _events[slot] = ev;
        var entry = new Entry(timeMicros, ((ulong)sequence << SlotBits) | (uint)slot);
        if (timeMicros - _lastTakenMicros >= _laneMinDelayMicros && (_laneCount == 0 || Before(LaneTail, entry)))
        {
            AppendToLane(entry);
            return;
        }
        if (_heapCount == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        SiftUp(_heapCount, entry);
        _heapCount++;

        // Messages in their own methods: their builders' locals cost every enqueue a larger frame (issue 11).
        static void ThrowBadSequence(long sequence) => throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"sequence must be in 0..{MaxSequence}");
        static void ThrowFull() => throw new InvalidOperationException($"more than {MaxQueued} events queued at once");
    }

    public bool TryPeek(out SimEvent ev, out long timeMicros)
    {
        if (Count == 0)
        {
            ev = default;
            timeMicros = 0;
            return false;
        }
        Entry first = Head(out _);
        ev = _events[first.Slot];
        timeMicros = first.TimeMicros;
        return true;
    }

    /// <summary>Removes the earliest event (the one <see cref="TryPeek"/> returned).</summary>
    public void Dequeue()
    {
        if (Count == 0) throw new InvalidOperationException("the event queue is empty");
        Take(LaneFirst());
    }

    /// <summary>
    /// Takes the earliest event if it is due by <paramref name="deadlineMicros"/>: a peek and a dequeue in
    /// one step, comparing the two heads once (the simulator's loop does both for every event).
    /// </summary>
    public bool TryDequeue(long deadlineMicros, out SimEvent ev, out long timeMicros)
    {
        if (Count == 0)
        {
            ev = default;
            timeMicros = 0;
            return false;
        }
        Entry first = Head(out bool fromLane);
        timeMicros = first.TimeMicros;
        if (timeMicros > deadlineMicros)
        {
            ev = default;
            return false;
        }
        ev = _events[first.Slot];
        Take(fromLane);
        return true;
    }

    private void Take(bool fromLane)
    {
        Entry first;
        if (fromLane)
        {
            first = _lane[_laneHead];
            _laneHead = (_laneHead + 1) & (_lane.Length - 1);
            _laneCount--;
        }
        else
        {
            first = _heap[0];
            _heapCount--;
            if (_heapCount > 0) FillRoot(_heap[_heapCount]);
        }
        _lastTakenMicros = first.TimeMicros;
        _events[first.Slot] = default; // drop its references (frames) for the GC
        _freeSlots[_freeCount++] = first.Slot;
    }

    /// <summary>The earliest entry (the queue is not empty), and whether it heads the lane or the heap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Entry Head(out bool fromLane)
    {
        fromLane = LaneFirst();
        return fromLane ? _lane[_laneHead] : _heap[0];
    }

    /// <summary>True when the earliest event is the lane's head (the queue is not empty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool LaneFirst() => _laneCount > 0 && (_heapCount == 0 || Before(_lane[_laneHead], _heap[0]));

    private Entry LaneTail => _lane[(_laneHead + _laneCount - 1) & (_lane.Length - 1)];

    /// <summary>Appends to the lane's ring (a power-of-two array, doubled in order when full).</summary>
    private void AppendToLane(Entry entry)
    {
        if (_laneCount == _lane.Length)
        {
            var grown = new Entry[_lane.Length * 2];
            for (int i = 0; i < _laneCount; i++) grown[i] = _lane[(_laneHead + i) & (_lane.Length - 1)];
            _lane = grown;
            _laneHead = 0;
        }
        _lane[(_laneHead + _laneCount) & (_lane.Length - 1)] = entry;
        _laneCount++;
    }

    private int TakeSlot()
    {
        if (_freeCount > 0) return _freeSlots[--_freeCount];
        if (_slotsUsed == _events.Length)
        {
            Array.Resize(ref _events, _events.Length * 2);
            Array.Resize(ref _freeSlots, _events.Length);
        }
        return _slotsUsed++;
    }

    private void SiftUp(int index, Entry entry)
    {
        Entry[] heap = _heap;
        while (index > 0)
        {
            int parent = (int)((uint)(index - 1) / Arity); // unsigned: a shift, without signed division's fix-up
            if (!Before(entry, heap[parent])) break;
            heap[index] = heap[parent];
            index = parent;
        }
        heap[index] = entry;
    }

    /// <summary>
    /// Refills the root's hole after a dequeue (Floyd's variant, as in bottom-up heapsort): the hole
    /// moves down along the smallest children to a leaf without comparing against the moved entry,
    /// then that entry, almost always one of the latest, rises from there, usually not at all.
    /// This saves one unpredictable comparison per level; the pop order is the same, since
    /// (time, sequence) keys are unique.
    /// </summary>
    private void FillRoot(Entry entry)
    {
        Entry[] heap = _heap;
        int count = _heapCount;
        int index = 0;
        while (true)
        {
            int first = index * Arity + 1;
            if (first >= count) break;
            int last = Math.Min(first + Arity, count);
            int best = first;
            Entry bestEntry = heap[first]; // kept in registers, not reloaded for every comparison
            for (int child = first + 1; child < last; child++)
            {
                Entry candidate = heap[child];
                if (!Before(candidate, bestEntry)) continue;
                best = child;
                bestEntry = candidate;
            }
            heap[index] = bestEntry;
            index = best;
        }
        SiftUp(index, entry);
    }

    /// <summary>Inlined: as a call (the native compiler did not inline it) it was ~5 % of a run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(in Entry a, in Entry b) =>
        a.TimeMicros < b.TimeMicros || (a.TimeMicros == b.TimeMicros && a.SequenceAndSlot < b.SequenceAndSlot);

    private readonly record struct Entry(long TimeMicros, ulong SequenceAndSlot)
    {
        public int Slot => (int)(SequenceAndSlot & (MaxQueued - 1));
    }
}

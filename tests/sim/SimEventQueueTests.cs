using FsCheck;
using FsCheck.Fluent;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// The event queue pops in (time, sequence) order whatever the interleaving of enqueues and
/// dequeues, which is what keeps trace hashes independent of the heap's shape.
/// </summary>
public sealed class SimEventQueueTests
{
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Pops_in_time_then_sequence_order_like_a_sorted_model(int[] script)
    {
        var queue = new SimEventQueue();
        var model = new SortedSet<(long Time, long Sequence)>();
        long sequence = 0;
        foreach (int step in script)
        {
            if (step % 3 == 0 && model.Count > 0)
            {
                if (!Pop(queue, model)) return false;
                continue;
            }
            // Few distinct times, so equal times (ordered by sequence) are common.
            long time = Math.Abs(step % 17);
            queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = sequence }, time, sequence);
            model.Add((time, sequence));
            sequence++;
        }
        while (model.Count > 0)
        {
            if (!Pop(queue, model)) return false;
        }
        return queue.Count == 0 && !queue.TryPeek(out _, out _);
    }

    /// <summary>
    /// With the in-order lane on, time moving forward as events are taken, and a mix of short and
    /// long delays (the long ones often, but not always, in order), the pop order is still exactly
    /// the sorted model's, and both the lane and the heap are used.
    /// </summary>
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool With_the_lane_pops_in_time_then_sequence_order_like_a_sorted_model(int[] script, PositiveInt laneDelay)
    {
        long laneMinDelay = laneDelay.Get % 40;
        var queue = new SimEventQueue(laneMinDelay);
        var model = new SortedSet<(long Time, long Sequence)>();
        long sequence = 0;
        long now = 0;
        foreach (int step in script)
        {
            if (step % 3 == 0 && model.Count > 0)
            {
                now = model.Min.Time;
                if (!Pop(queue, model)) return false;
                continue;
            }
            // Mostly a fixed long delay (request timers), sometimes a short or slightly shorter one.
            long delay = (step & 0x30) switch { 0 => Math.Abs(step % 7), 0x10 => 50 - Math.Abs(step % 3), _ => 50 };
            queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = sequence }, now + delay, sequence);
            model.Add((now + delay, sequence));
            sequence++;
            if (queue.LaneCount > queue.Count) return false;
        }
        while (model.Count > 0)
        {
            if (!Pop(queue, model)) return false;
        }
        return queue.Count == 0 && queue.LaneCount == 0 && !queue.TryPeek(out _, out _);
    }

    [Fact]
    public void Request_timers_set_one_delay_ahead_go_to_the_lane_and_short_events_to_the_heap()
    {
        var queue = new SimEventQueue(laneMinDelayMicros: 500);
        long sequence = 0;
        for (long t = 0; t < 100; t++)
        {
            queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = sequence }, t + 1_000, sequence++);
            queue.Enqueue(new SimEvent { Kind = SimEventKind.Deliver, Node = 0, Id = sequence }, t + 3, sequence++);
        }
        Assert.Equal(100, queue.LaneCount);
        Assert.Equal(200, queue.Count);
        long lastTime = -1;
        while (queue.TryPeek(out _, out long time))
        {
            Assert.True(time >= lastTime);
            lastTime = time;
            queue.Dequeue();
        }
        Assert.Equal(0, queue.LaneCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimEventQueue(laneMinDelayMicros: -1));
    }

    private static bool Pop(SimEventQueue queue, SortedSet<(long Time, long Sequence)> model)
    {
        (long time, long sequence) = model.Min;
        model.Remove(model.Min);
        bool ok = queue.TryPeek(out SimEvent ev, out long peekedTime) && peekedTime == time && ev.Id == sequence;
        queue.Dequeue();
        return ok && queue.Count == model.Count;
    }

    [Fact]
    public void Orders_sequences_up_to_the_limit_and_refuses_larger_ones()
    {
        var queue = new SimEventQueue();
        // Same time: only the sequence (the high bits of the word shared with the slot) orders them.
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = 2 }, 5, SimEventQueue.MaxSequence);
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = 1 }, 5, SimEventQueue.MaxSequence - 1);
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = 0 }, 5, 1L << 39);
        for (long expected = 0; expected < 3; expected++)
        {
            Assert.True(queue.TryPeek(out SimEvent ev, out _));
            Assert.Equal(expected, ev.Id);
            queue.Dequeue();
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0 }, 5, SimEventQueue.MaxSequence + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0 }, 5, -1));
    }

    /// <summary>The simulator loop's take: only events due by the deadline, from the heap or the lane, in order.</summary>
    [Fact]
    public void TryDequeue_takes_only_events_due_by_the_deadline_in_order()
    {
        var queue = new SimEventQueue(laneMinDelayMicros: 100);
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = 0 }, 500, 0); // lane
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Deliver, Node = 0, Id = 1 }, 10, 1); // heap
        queue.Enqueue(new SimEvent { Kind = SimEventKind.Deliver, Node = 0, Id = 2 }, 10, 2); // heap, same time
        Assert.Equal(1, queue.LaneCount);

        Assert.False(queue.TryDequeue(9, out _, out long early));
        Assert.Equal(10, early); // the time of the earliest, which stays queued
        Assert.Equal(3, queue.Count);
        Assert.True(queue.TryDequeue(10, out SimEvent first, out long firstTime));
        Assert.Equal((1L, 10L), (first.Id, firstTime));
        Assert.True(queue.TryDequeue(10, out SimEvent second, out _));
        Assert.Equal(2, second.Id);
        Assert.False(queue.TryDequeue(499, out _, out _));
        Assert.Equal(1, queue.Count);
        Assert.True(queue.TryDequeue(long.MaxValue, out SimEvent last, out long lastTime));
        Assert.Equal((0L, 500L), (last.Id, lastTime));
        Assert.False(queue.TryDequeue(long.MaxValue, out _, out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Dequeue_on_an_empty_queue_throws()
    {
        Assert.Throws<InvalidOperationException>(() => new SimEventQueue().Dequeue());
    }

    [Fact]
    public void Grows_past_its_initial_capacity_and_reuses_slots()
    {
        var queue = new SimEventQueue();
        for (int round = 0; round < 3; round++)
        {
            for (long i = 0; i < 5_000; i++) queue.Enqueue(new SimEvent { Kind = SimEventKind.Timer, Node = 0, Id = i }, 10_000 - i, round * 10_000 + i);
            for (long i = 4_999; i >= 0; i--)
            {
                Assert.True(queue.TryPeek(out SimEvent ev, out long time));
                Assert.Equal(i, ev.Id);
                Assert.Equal(10_000 - i, time);
                queue.Dequeue();
            }
        }
        Assert.Equal(0, queue.Count);
    }
}

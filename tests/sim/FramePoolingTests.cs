using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// Frames in flight live in pooled buffers (issue 11); which array holds a frame must never change a run.
/// A buffer returned while a second event still carried it (a duplicated delivery sharing its original's
/// array, say) would be rented again for a later frame and overwrite the one still in flight.
/// </summary>
public sealed class FramePoolingTests
{
    private static SimResult Run(ulong seed, Schedule schedule, bool pooled)
    {
        var cluster = new SimCluster(seed, new SimOptions { Nodes = 5, Operations = schedule.Ops.Count }, schedule: schedule);
        cluster.Frames = new SimFrames(pooled);
        return cluster.Run();
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void Every_message_duplicated_and_a_crash_give_the_same_trace_pooled_or_not(ulong seed)
    {
        var options = new SimOptions { Nodes = 5, Operations = 600 };
        Schedule plan = ScheduleGenerator.Generate(seed, options);
        // Every message duplicated for the whole run, jittered so copies overtake each other, and one node
        // down for a while, so failed sends (whose frames come back to the sender) are in the mix too.
        var schedule = new Schedule(plan.Ops,
            [new LinkFault(0, 60_000, 0.0, 1.0, 0.0, 3_000), new CrashFault(200, [2], 300)], []);
        SimResult pooled = Run(seed, schedule, pooled: true);
        SimResult fresh = Run(seed, schedule, pooled: false);
        Assert.True(fresh.Ok, string.Join("; ", fresh.Violations));
        Assert.Equal(fresh.TraceHash, pooled.TraceHash);
        Assert.Equal(fresh.Events, pooled.Events);
    }

    [Fact]
    public void Frame_buffers_cannot_be_swapped_once_events_ran()
    {
        var cluster = new SimCluster(1, new SimOptions { Nodes = 3, Operations = 20 });
        cluster.Run();
        Assert.Throws<InvalidOperationException>(() => cluster.Frames = new SimFrames(pooled: false));
    }

    [Fact]
    public void A_returned_buffer_is_reused_for_the_next_frame_of_its_size_and_only_when_pooled()
    {
        var message = new Meteora.Engine.Protocol.ReplicaRead(7, "some-key");
        var pool = new SimFrames(pooled: true);
        (byte[] first, int length) = pool.Encode(message);
        Assert.True(first.Length >= length && System.Numerics.BitOperations.IsPow2(first.Length));
        Assert.Equal(Meteora.Engine.Protocol.MessageCodec.Encode(message), first[..length]);
        pool.Return(first);
        Assert.Same(first, pool.Encode(message).Buffer);
        Assert.NotSame(first, pool.Encode(message).Buffer); // taken: the pool hands out a fresh one

        var fresh = new SimFrames(pooled: false);
        (byte[] exact, int exactLength) = fresh.Encode(message);
        Assert.Equal(exactLength, exact.Length);
        fresh.Return(exact);
        Assert.NotSame(exact, fresh.Encode(message).Buffer);
    }
}

using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// Ring changes under the simulator's membership faults (joins of fresh nodes, leaves, removals of dead
/// members, close together, with the client workload running): every check holds over the final ring,
/// and the changes really happened (the runs are not vacuous).
/// </summary>
public sealed class MembershipSimTests
{
    private static SimOptions Options(PlantedBug bug = PlantedBug.None) =>
        new() { Nodes = 4, Operations = 1000, Faults = FaultKinds.Membership, Plant = bug };

    [Fact]
    public void Joins_leaves_and_removals_keep_every_check_green_over_the_final_ring()
    {
        int joined = 0, departed = 0, removed = 0;
        for (ulong seed = 1; seed <= 13; seed++)
        {
            var cluster = new SimCluster(seed, Options());
            SimResult result = cluster.Run();
            Assert.True(result.Ok, $"seed {seed}: {string.Join("; ", result.Violations)}");
            RingState ring = cluster.NewestRing()!;
            Assert.Null(ring.Change);
            Assert.True(ring.Version > 1, $"seed {seed}: the ring never changed");
            // Claim invariants of the final ring: every preference list has min(N, S) distinct nodes,
            // and owned partitions per node differ by at most one.
            int effective = Math.Min(3, ring.Current.NodeCount);
            for (int p = 0; p < ring.PartitionCount; p++)
            {
                Assert.Equal(effective, ring.CurrentPlacement.PreferenceList(p).ToArray().Distinct().Count());
            }
            int[] owned = [.. ring.Current.Nodes.ToArray().Select(n => ring.Current.PartitionsOwnedBy(n))];
            Assert.True(owned.Max() - owned.Min() <= 1, $"seed {seed}: owned partitions {string.Join(',', owned)}");
            joined += ring.Members.Count(m => m.NodeId >= 4);
            departed += cluster.DepartedNodes.Count;
            removed += Enumerable.Range(0, 4).Count(n => ring.MemberOf(n) is null && !cluster.DepartedNodes.Contains(n));
        }
        Assert.True(joined > 0 && departed > 0 && removed > 0, $"joined {joined}, left {departed}, removed {removed}: some change kind never ran");
    }

    [Fact]
    public void A_membership_run_replays_to_the_same_trace()
    {
        SimResult first = new SimCluster(4, Options()).Run();
        SimResult second = new SimCluster(4, Options()).Run();
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Events, second.Events);
    }

    /// <summary>The planted bug flip-before-transfer (ownership moves before the data) must be caught within 100 seeds, on a seed that passes without it.</summary>
    [Fact]
    public void Flip_before_transfer_is_caught_within_100_seeds()
    {
        for (ulong seed = 1; seed <= 100; seed++)
        {
            SimResult result = new SimCluster(seed, Options(PlantedBug.FlipBeforeTransfer)).Run();
            if (result.Ok) continue;
            Assert.Contains(result.Violations, v => v.StartsWith("freshness", StringComparison.Ordinal) || v.StartsWith("durability", StringComparison.Ordinal));
            SimResult clean = new SimCluster(seed, Options()).Run();
            Assert.True(clean.Ok, $"seed {seed} fails without the plant too: {string.Join("; ", clean.Violations)}");
            return;
        }
        Assert.Fail("no seed in 1..100 caught flip-before-transfer");
    }
}

public sealed class StreamThrottleTests
{
    /// <summary>
    /// The transfer throttle holds in virtual time. One join, half-way through a 20000-operation workload
    /// so the joiner has data to pull: at 1 KiB/s its last ring step (the flip) comes at least half the
    /// pulled bytes over the rate after the join starts, while unthrottled it comes sooner than that.
    /// </summary>
    [Fact]
    public void A_low_stream_rate_slows_the_join_in_proportion_to_the_bytes_pulled()
    {
        const long rate = 1024;
        SimOptions Options(long? streamRate) => new()
        {
            Nodes = 4, Operations = 20000, Keys = 50000, Faults = FaultKinds.Membership, DrawKnobs = false, StreamBytesPerSecond = streamRate,
        };
        Schedule plan = ScheduleGenerator.Generate(1, Options(null) with { Faults = FaultKinds.None });
        long joinMs = ScheduleGenerator.HorizonMs(Options(null)) / 2;
        var schedule = new Schedule(plan.Ops, [new JoinFault(joinMs, 4, 0)], []);
        var fast = new SimCluster(1, Options(null), schedule: schedule);
        SimResult fastResult = fast.Run();
        var slow = new SimCluster(1, Options(rate), schedule: schedule);
        SimResult slowResult = slow.Run();
        Assert.True(fastResult.Ok, string.Join("; ", fastResult.Violations));
        Assert.True(slowResult.Ok, string.Join("; ", slowResult.Violations));
        Assert.NotNull(slow.NewestRing()!.MemberOf(4));
        long pulled = slow.Nodes[4].Engine.Counters.StreamBytesReceived;
        Assert.True(pulled > 2 * 4096, $"node4 pulled only {pulled} bytes: too little to see a {rate} B/s throttle");
        long startMicros = SimCluster.EpochMicros + joinMs * 1000;
        double fastJoinMs = (fast.NewestRingAtMicros - startMicros) / 1000.0;
        double slowJoinMs = (slow.NewestRingAtMicros - startMicros) / 1000.0;
        double floorMs = (pulled - 4096) * 1000.0 / rate / 2;
        Assert.True(fastJoinMs < floorMs, $"unthrottled join took {fastJoinMs} ms, not faster than the {floorMs} ms a {rate} B/s throttle implies");
        Assert.True(slowJoinMs >= floorMs, $"at {rate} B/s, pulling {pulled} bytes took {slowJoinMs} ms (at least {floorMs} ms expected)");
    }
}

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
    /// The transfer throttle holds in virtual time: at 4 KiB/s the same schedule's ring changes finish later
    /// than at the default rate, and no node pulls faster than the rate allows (plus one burst per node).
    /// </summary>
    [Fact]
    public void A_low_stream_rate_slows_transfers_and_bounds_the_bytes_per_second()
    {
        const long rate = 1024;
        SimOptions Options(long? streamRate) => new()
        {
            Nodes = 4, Operations = 4000, Keys = 4000, Faults = FaultKinds.Membership, DrawKnobs = false, StreamBytesPerSecond = streamRate,
        };
        static long Streamed(SimCluster cluster) => cluster.Nodes.Where(n => !n.NotStarted).Sum(n => n.Engine.Counters.StreamBytesReceived);
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var fast = new SimCluster(seed, Options(null));
            SimResult fastResult = fast.Run();
            Assert.True(fastResult.Ok, $"seed {seed}: {string.Join("; ", fastResult.Violations)}");
            if (Streamed(fast) < 16 * rate) continue; // too little data moved to see a 1 KiB/s throttle
            var slow = new SimCluster(seed, Options(rate));
            SimResult slowResult = slow.Run();
            Assert.True(slowResult.Ok, $"seed {seed}: {string.Join("; ", slowResult.Violations)}");
            Assert.True(slowResult.SimulatedMs > fastResult.SimulatedMs, $"seed {seed}: throttled run took {slowResult.SimulatedMs} ms, unthrottled {fastResult.SimulatedMs} ms");
            foreach (SimNode node in slow.Nodes.Where(n => !n.NotStarted))
            {
                // A round starts only within rate x elapsed + one burst (4 KiB at least); a round may overshoot by what one round pulls.
                long bytes = node.Engine.Counters.StreamBytesReceived;
                Assert.True(bytes <= rate * (slowResult.SimulatedMs / 1000 + 1) + 16 * rate, $"seed {seed}: node{node.Id} pulled {bytes} bytes in {slowResult.SimulatedMs} ms");
            }
            return;
        }
        Assert.Fail("no seed in 1..20 streamed enough data to test the throttle");
    }
}

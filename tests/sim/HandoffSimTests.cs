using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>Hinted handoff under the simulator's faults: the paths are taken, and every check stays green.</summary>
public sealed class HandoffSimTests
{
    /// <summary>
    /// Twenty faulty seeds on five nodes (N=3, so every key has two fallbacks): hints are stored, delivered
    /// and dropped past drawn windows, and every run passes. Guards against a workload or knob change that
    /// silently stops exercising handoff.
    /// </summary>
    [Fact]
    public void Faulty_runs_store_deliver_and_drop_hints_and_pass_every_check()
    {
        int stored = 0, delivered = 0, dropped = 0;
        for (ulong seed = 1; seed <= 20; seed++)
        {
            SimResult result = new SimCluster(seed, new SimOptions { Nodes = 5, Operations = 1000, Faults = FaultKinds.All }).Run();
            Assert.True(result.Ok, $"seed {seed}: {string.Join("; ", result.Violations)}");
            stored += result.Hints.Stored;
            delivered += result.Hints.Delivered;
            dropped += result.Hints.Dropped;
        }
        Assert.True(stored > 0 && delivered > 0 && dropped > 0, $"hints stored {stored}, delivered {delivered}, dropped {dropped}");
        Assert.True(delivered + dropped <= stored, $"{delivered} delivered + {dropped} dropped of {stored} stored");
    }

    /// <summary>
    /// With a 300 ms tombstone grace period, owners find replayed hints obsolete (older than the grace, key
    /// absent) and ignore them; without that rule seeds 74 and 106 resurrect deleted keys (regression seeds).
    /// </summary>
    [Fact]
    public void Hints_older_than_a_short_grace_period_are_ignored_by_their_owners_without_resurrection()
    {
        int obsolete = 0;
        foreach (ulong seed in new ulong[] { 74, 106, 124, 171 })
        {
            SimResult result = new SimCluster(seed, new SimOptions { Nodes = 5, Operations = 3000, Faults = FaultKinds.All, TombstoneGraceMs = 300 }).Run();
            Assert.True(result.Ok, $"seed {seed}: {string.Join("; ", result.Violations)}");
            obsolete += result.Hints.Obsolete;
        }
        Assert.True(obsolete > 0, "no replayed hint was found obsolete");
    }

    /// <summary>A run's strict share decides which requests count primaries only; 0 and 100 are both valid and pass.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void All_sloppy_and_all_strict_workloads_pass(int strictPercent)
    {
        for (ulong seed = 1; seed <= 5; seed++)
        {
            SimResult result = new SimCluster(seed, new SimOptions { Nodes = 5, Operations = 1000, Faults = FaultKinds.All, StrictPercent = strictPercent }).Run();
            Assert.True(result.Ok, $"seed {seed} at {strictPercent}% strict: {string.Join("; ", result.Violations)}");
        }
    }
}

using Meteora.Engine.Repair;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

public sealed class TombstoneLogTests
{
    /// <summary>Regression (simulator seed 125): a future-dated tombstone at the head of a partition held back every later one.</summary>
    [Fact]
    public void A_tombstone_from_a_clock_that_ran_ahead_does_not_hold_back_later_ones()
    {
        var log = new TombstoneLog();
        log.OnTombstoneArrived(3, "from-the-future", new WriteVersion(1_000_000, 1));
        log.OnTombstoneArrived(3, "ordinary", new WriteVersion(100, 2));
        log.OnPartitionRepaired(3, log.NextSequence());

        var eligible = log.TakeEligible(500, 10, out _);
        Assert.Equal([(3, "ordinary", new WriteVersion(100, 2))], eligible);
        Assert.Equal(1, log.Count);
        Assert.Equal([(3, "from-the-future", new WriteVersion(1_000_000, 1))], log.TakeEligible(2_000_000, 10, out _));
        Assert.Equal(0, log.Count);
    }

    [Fact]
    public void Nothing_is_eligible_before_a_repair_round_that_began_after_it_arrived()
    {
        var log = new TombstoneLog();
        long before = log.NextSequence();
        log.OnTombstoneArrived(1, "k", new WriteVersion(10, 0));
        log.OnPartitionRepaired(1, before); // the round began before the tombstone arrived
        Assert.Empty(log.TakeEligible(long.MaxValue, 10, out _));
        log.OnPartitionRepaired(0, log.NextSequence()); // another partition's round says nothing of this one
        Assert.Empty(log.TakeEligible(long.MaxValue, 10, out _));
        log.OnPartitionRepaired(1, log.NextSequence());
        Assert.Single(log.TakeEligible(long.MaxValue, 10, out _));
    }
}

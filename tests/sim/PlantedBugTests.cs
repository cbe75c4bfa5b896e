using Meteora.Engine.Node;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>The checkers' self-test: each deliberately planted bug must be caught within 100 faulty seeds.</summary>
public sealed class PlantedBugTests
{
    private static SimOptions Options(PlantedBug bug) => new() { Nodes = 5, Operations = 1000, Faults = FaultKinds.All, Plant = bug };

    [Theory]
    [InlineData(PlantedBug.AckBeforeDurable, "ack before durable")]
    [InlineData(PlantedBug.LwwNoTieBreak, null)]
    [InlineData(PlantedBug.ReadIgnoresR, "freshness")]
    [InlineData(PlantedBug.MerkleSkipLeaf, "convergence")]
    [InlineData(PlantedBug.HintDeletedBeforeAck, "handoff")]
    public void A_sweep_of_at_most_100_seeds_catches_the_planted_bug(PlantedBug bug, string? expectedCheck)
    {
        for (ulong seed = 1; seed <= 100; seed++)
        {
            SimResult result = new SimCluster(seed, Options(bug)).Run();
            if (result.Ok) continue;
            if (expectedCheck is not null)
            {
                Assert.Contains(result.Violations, v => v.StartsWith(expectedCheck, StringComparison.Ordinal));
            }
            return;
        }
        Assert.Fail($"no seed in 1..100 caught planted bug {bug}");
    }

    /// <summary>
    /// A node's ack to itself goes through its local queue, not the network; the oracle must see it too.
    /// Before the local message tap, a single node acking before durable passed every fault-free seed.
    /// </summary>
    [Fact]
    public void The_ack_oracle_catches_an_early_ack_a_node_sends_itself()
    {
        SimResult result = new SimCluster(1, new SimOptions { Nodes = 1, ReplicationFactor = 1, Operations = 200, Plant = PlantedBug.AckBeforeDurable }).Run();
        Assert.False(result.Ok);
        Assert.Contains(result.Violations, v => v.StartsWith("ack before durable: node0 acked", StringComparison.Ordinal) && v.Contains("to node0"));
    }

    /// <summary>Convergence must come from anti-entropy: switch it off and the convergence check must fire.</summary>
    [Fact]
    public void Without_anti_entropy_replicas_do_not_converge_and_the_checker_says_so()
    {
        SimOptions options = Options(PlantedBug.None) with { AntiEntropyIntervalMs = 0 };
        for (ulong seed = 1; seed <= 100; seed++)
        {
            SimResult result = new SimCluster(seed, options).Run();
            if (result.Ok) continue;
            Assert.Contains(result.Violations, v => v.StartsWith("convergence", StringComparison.Ordinal));
            Assert.Null(result.ConvergenceMs);
            return;
        }
        Assert.Fail("with anti-entropy off, no seed in 1..100 failed to converge");
    }

    [Fact]
    public void The_same_seeds_pass_without_the_plant()
    {
        for (ulong seed = 1; seed <= 20; seed++)
        {
            SimResult result = new SimCluster(seed, Options(PlantedBug.None)).Run();
            Assert.True(result.Ok, $"seed {seed}: {string.Join("; ", result.Violations)}");
            Assert.NotNull(result.ConvergenceMs);
        }
    }

    [Fact]
    public void Shrinking_reduces_ack_before_durable_to_a_tiny_schedule_that_still_fails()
    {
        SimOptions options = Options(PlantedBug.AckBeforeDurable);
        var shrinker = new Shrinker(1, options);
        Schedule original = ScheduleGenerator.Generate(1, options);
        var shrunk = shrinker.Shrink(original);
        Assert.NotNull(shrunk);
        Schedule minimal = shrunk.Value.Schedule;
        Assert.True(minimal.Ops.Count <= 2 && minimal.Faults.Count == 0, minimal.ToJson());
        Assert.True(minimal.Size < original.Size / 100);

        // The written schedule replays to the same failure, through JSON.
        Schedule replayed = Schedule.FromJson(minimal.ToJson());
        Assert.Equal(minimal.ToJson(), replayed.ToJson());
        SimResult again = new SimCluster(1, options, schedule: replayed).Run();
        Assert.False(again.Ok);
        Assert.Equal(shrunk.Value.Result.TraceHash, again.TraceHash);
    }

    [Fact]
    public void Shrink_cli_writes_a_schedule_whose_replay_fails()
    {
        string path = Path.Combine(Path.GetTempPath(), $"meteora-shrink-{Guid.NewGuid():N}.json");
        try
        {
            var (exit, stdout, stderr) = SimProcess.Run("shrink", "--seed", "1", "--nodes", "5", "--faults", "all", "--plant", "ack-before-durable", "--out", path);
            Assert.True(exit == 0, stderr);
            Assert.Contains("FAILED seed=1", stdout);
            Assert.Contains($"--schedule {path}", stdout);
            var replay = SimProcess.Run("run", "--seed", "1", "--nodes", "5", "--faults", "all", "--plant", "ack-before-durable", "--schedule", path);
            Assert.Equal(1, replay.ExitCode);
            Assert.Contains("FAILED seed=1", replay.Stdout);
            Assert.Contains("replay: meteora-sim run --seed 1", replay.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

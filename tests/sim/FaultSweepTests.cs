namespace Meteora.Tests.Sim;

/// <summary>
/// Seeds with every fault kind, each run in two separate processes: every seed must pass every
/// check, and both processes must report the same trace hash for it.
/// </summary>
public sealed class FaultSweepTests
{
    [Theory]
    [InlineData(5, "1..300")]
    [InlineData(3, "1001..1200")]
    [InlineData(5, "2001..2060", "--ops", "3000", "--tombstone-grace-ms", "200")] // tombstone GC under faults
    public void Faulty_seeds_pass_and_replay_identically_in_two_processes(int nodes, string seeds, params string[] extra)
    {
        string[] args = ["sweep", "--seeds", seeds, "--nodes", nodes.ToString(), "--faults", "all", "--json", .. extra];
        var first = SimProcess.Run(args);
        var second = SimProcess.Run(args);
        Assert.True(first.ExitCode == 0, first.Stdout);
        Assert.Equal(0, second.ExitCode);

        var firstLines = first.Stdout.TrimEnd().Split('\n');
        var secondLines = second.Stdout.TrimEnd().Split('\n');
        var summary = SimProcess.LastJsonLine(first.Stdout);
        int count = summary.GetProperty("seeds").GetInt32();
        Assert.True(count >= 60);
        Assert.Equal(count, summary.GetProperty("passed").GetInt32());
        Assert.Equal(0, summary.GetProperty("failedSeeds").GetArrayLength());

        var perSeed = firstLines.Where(l => l.Contains("\"traceHash\"")).ToArray();
        Assert.Equal(count, perSeed.Length);
        Assert.Equal(perSeed, secondLines.Where(l => l.Contains("\"traceHash\"")).ToArray());
        Assert.Equal(count, perSeed.Distinct().Count());
    }
}

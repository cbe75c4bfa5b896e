namespace Meteora.Tests.Sim;

public sealed class CrossProcessDeterminismTests
{
    [Theory]
    [InlineData(11, 3)]
    [InlineData(12, 5)]
    [InlineData(13, 5)]
    public void Same_seed_gives_the_same_trace_hash_in_two_processes(int seed, int nodes)
    {
        string[] args = ["run", "--seed", seed.ToString(), "--nodes", nodes.ToString(), "--ops", "2000", "--json"];
        var first = SimProcess.Run(args);
        var second = SimProcess.Run(args);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        var a = SimProcess.LastJsonLine(first.Stdout);
        var b = SimProcess.LastJsonLine(second.Stdout);
        Assert.Equal(a.GetProperty("traceHash").GetString(), b.GetProperty("traceHash").GetString());
        Assert.Equal(a.GetProperty("events").GetInt64(), b.GetProperty("events").GetInt64());
        Assert.True(a.GetProperty("ok").GetBoolean());
        Assert.Equal(seed, a.GetProperty("seed").GetInt64());
        Assert.Equal(2000, a.GetProperty("opsOk").GetInt32() + a.GetProperty("opsFailed").GetInt32());
        Assert.Equal(0, a.GetProperty("violations").GetArrayLength());
    }

    [Fact]
    public void Different_seeds_give_different_hashes_across_processes()
    {
        var a = SimProcess.LastJsonLine(SimProcess.Run("run", "--seed", "21", "--json").Stdout);
        var b = SimProcess.LastJsonLine(SimProcess.Run("run", "--seed", "22", "--json").Stdout);
        Assert.NotEqual(a.GetProperty("traceHash").GetString(), b.GetProperty("traceHash").GetString());
    }

    [Theory]
    [InlineData("run")]
    [InlineData("run --seed abc")]
    [InlineData("run --seed 1 --nodes 0")]
    [InlineData("run --seed 1 --nodes 2 --n 3")]
    [InlineData("run --seed 1 --r 4")]
    [InlineData("run --seed 1 --partitions 48")]
    [InlineData("run --seed 1 --frobnicate")]
    [InlineData("fly")]
    [InlineData("run --seed 1 --faults partition,lightning")]
    [InlineData("run --seed 1 --plant everything")]
    [InlineData("run --seed 1 --schedule /nonexistent/schedule.json")]
    [InlineData("sweep --seeds 9..3")]
    [InlineData("sweep --seeds many")]
    [InlineData("shrink")]
    public void Usage_errors_exit_2_with_one_line(string commandLine)
    {
        var (exit, stdout, stderr) = SimProcess.Run(commandLine.Split(' '));
        Assert.Equal(2, exit);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("meteora-sim: ", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }
}

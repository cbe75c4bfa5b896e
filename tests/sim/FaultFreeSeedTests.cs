using Meteora.Checking;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

public sealed class FaultFreeSeedTests
{
    public static TheoryData<int> NodeCounts() => new() { 3, 5 };

    /// <summary>100 seeds per cluster size, 200 in all, every check must pass.</summary>
    [Theory]
    [MemberData(nameof(NodeCounts))]
    public void Fault_free_seeds_pass_every_check(int nodes)
    {
        var failures = new List<string>();
        for (ulong seed = 1; seed <= 100; seed++)
        {
            var options = new SimOptions { Nodes = nodes, Operations = 400, ReplicationFactor = 3 };
            SimResult result = new SimCluster(seed, options).Run();
            if (!result.Ok) failures.Add($"seed {seed}: {string.Join("; ", result.Violations)}");
            Assert.Equal(400, result.OpsOk + result.OpsFailed);
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 2, 1, 2)]
    [InlineData(5, 5, 3, 3)]
    [InlineData(5, 3, 2, 2)]
    [InlineData(4, 3, 1, 3)]
    public void Fixed_quorums_pass(int nodes, int n, int r, int w)
    {
        for (ulong seed = 1000; seed < 1010; seed++)
        {
            var options = new SimOptions { Nodes = nodes, Operations = 300, ReplicationFactor = n, ReadConsistency = r, WriteConsistency = w };
            SimResult result = new SimCluster(seed, options).Run();
            Assert.True(result.Ok, $"seed {seed}: {string.Join("; ", result.Violations)}");
        }
    }

    [Fact]
    public void Same_seed_same_hash_in_process_and_different_seeds_differ()
    {
        var options = new SimOptions { Nodes = 5, Operations = 300 };
        var hashes = new HashSet<string>();
        for (ulong seed = 1; seed <= 20; seed++)
        {
            string first = new SimCluster(seed, options).Run().TraceHash;
            Assert.Equal(first, new SimCluster(seed, options).Run().TraceHash);
            hashes.Add(first);
        }
        Assert.Equal(20, hashes.Count);
    }

    [Fact]
    public void Reads_see_writes_and_the_workload_mixes_operations()
    {
        var cluster = new SimCluster(7, new SimOptions { Nodes = 3, Operations = 500, ReadConsistency = 2, WriteConsistency = 2 });
        SimResult result = cluster.Run();
        Assert.True(result.Ok, string.Join("; ", result.Violations));
        var ops = cluster.History.Operations;
        Assert.Contains(ops, op => op.Operation == Meteora.Engine.Node.ClientOperation.Get && op.Status == Meteora.Engine.Node.ClientStatus.Ok);
        Assert.Contains(ops, op => op.Operation == Meteora.Engine.Node.ClientOperation.Delete && op.Status == Meteora.Engine.Node.ClientStatus.Ok);
        Assert.Contains(ops, op => op.Operation == Meteora.Engine.Node.ClientOperation.Get && op.Status == Meteora.Engine.Node.ClientStatus.NotFound);
    }
}

using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Membership;

/// <summary>The adopted ring survives restarts: a configured member and a joined one come back with it, not with their flags' ring.</summary>
public sealed class RingPersistenceTests
{
    [Fact]
    public async Task RestartedNodesComeBackWithTheAdoptedRingAndStatusShowsIt()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        NodeProcess joiner = cluster.AddJoiningNode(seed: 0);
        joiner.Start();
        JsonElement converged = await RingWaits.WaitConvergedAsync(cluster, cluster.Nodes, members: 4);
        long version = converged.GetProperty("version").GetInt64();
        Assert.True(version > 1, $"a completed join is a later ring than the configured version 1, got {version}");

        // Node 0 was started with --peers naming three nodes; node 3 with --join (harmless now: its saved ring names it).
        foreach (int node in new[] { 0, 3 })
        {
            Assert.True(cluster[node].Terminate(), $"node {node} did not stop");
            cluster[node].Start();
        }
        await cluster.WaitReadyAsync();
        foreach (int node in new[] { 0, 3 })
        {
            JsonElement ring = await RingWaits.RingAsync(cluster[node]);
            Assert.Equal(version, ring.GetProperty("version").GetInt64());
            Assert.Equal(new[] { 0, 1, 2, 3 }, ring.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
        }
        Assert.DoesNotContain("join: ", cluster[3].Output.Split("---- start node 3").Last()); // no probe: the saved ring was used

        // A write through the restarted configured node reaches the joined node (its link came from the saved ring).
        var (setStatus, set) = await Api.SetAsync(cluster[0].Http, "after-restart", "yes", w: 3);
        Assert.True(setStatus == 200, set.ToString());

        ProcessResult status = await MeteoraProcess.RunAsync(["status", "--node", $"http://127.0.0.1:{cluster[3].HttpPort}"]);
        Assert.True(status.ExitCode == 0, status.Stderr);
        string[] lines = status.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"Node 3: ring version {version}, claimant 0, no change in progress", lines[0]);
        string[] rows = [.. lines.Where(l => l.StartsWith("U", StringComparison.Ordinal))];
        Assert.Equal(4, rows.Length);
        Assert.All(rows, row => Assert.StartsWith("UN", row));
        Assert.Contains(rows, row => row.Contains("3 (this)", StringComparison.Ordinal));

        // The restarted joiner leaves through the CLI and exits 0.
        ProcessResult leave = await MeteoraProcess.RunAsync(["leave", "--node", $"http://127.0.0.1:{cluster[3].HttpPort}"]);
        Assert.True(leave.ExitCode == 0, leave.Stderr);
        Assert.StartsWith($"accepted: leave of node 3 at ring version {version + 1}", leave.Stdout.Trim());
        Assert.Equal(0, await RingWaits.WaitForExitAsync(cluster[3], 90_000));
    }
}

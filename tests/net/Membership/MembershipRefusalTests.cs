using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Membership;

/// <summary>Issue 9's bad requests: each gets a clear error (HTTP 4xx JSON, or one CLI line and a non-zero exit).</summary>
public sealed class MembershipRefusalTests
{
    [Fact]
    public async Task BadRingChangesAreRefusedNamingTheProblem()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);

        // Leaving when only N nodes remain.
        var (leaveStatus, leave) = await RingWaits.PostAsync(cluster[1], "/meteora/admin/leave");
        Assert.Equal(400, leaveStatus);
        Assert.Equal("cannot leave node 1: 2 nodes would remain, fewer than N=3", leave.GetProperty("error").GetString());

        // Joining with an id already in the ring (through that very node's address): exit 2, one line naming it.
        int[] ports = FreePorts.Take(2);
        ProcessResult impostor = await MeteoraProcess.RunAsync(
        [
            "node", "--id", "0", "--http-port", Num(ports[0]), "--peer-port", Num(ports[1]), "--data", Path.Combine(cluster.ScratchDir, "impostor"),
            "--join", $"127.0.0.1:{cluster[0].PeerPort}", "--n", "3", "--cluster-secret-file", cluster.SecretFile,
        ], timeoutMs: 60_000);
        Assert.Equal(2, impostor.ExitCode);
        string line = Assert.Single(impostor.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"meteora: node 0 cannot join: node 0 is already a member of the ring (normal, at 127.0.0.1:{cluster[0].PeerPort}); choose another --id, or remove node 0 first", line);

        NodeProcess third = cluster.AddJoiningNode(seed: 2);
        third.Start();
        await RingWaits.WaitConvergedAsync(cluster, cluster.Nodes, members: 4);

        // Removing a live node without force (HTTP, then the CLI: one line, exit 1).
        var (removeStatus, remove) = await RingWaits.PostAsync(cluster[0], "/meteora/admin/remove/1");
        Assert.Equal(400, removeStatus);
        Assert.Equal("node 1 is up; stop it first, make it leave, or remove it with force", remove.GetProperty("error").GetString());
        ProcessResult cliRemove = await MeteoraProcess.RunAsync(["remove", "1", "--node", $"http://127.0.0.1:{cluster[3].HttpPort}"]);
        Assert.Equal(1, cliRemove.ExitCode);
        Assert.Equal("meteora: node 1 is up; stop it first, make it leave, or remove it with force (HTTP 400)", cliRemove.Stderr.Trim());
        var (notMemberStatus, notMember) = await RingWaits.PostAsync(cluster[0], "/meteora/admin/remove/9?force=true");
        Assert.Equal(400, notMemberStatus);
        Assert.Equal("node 9 is not a normal member of the ring", notMember.GetProperty("error").GetString());

        // A second change while one runs: a join whose node dies before its transfers finish stays in progress.
        NodeProcess fourth = cluster.AddJoiningNode(seed: 0);
        fourth.Start();
        await WaitUntilAsync(async () => (await RingWaits.RingAsync(cluster[0])).GetProperty("pendingChange").GetString() == "join of node 4", cluster);
        fourth.Kill9();
        var (conflictStatus, conflict) = await RingWaits.PostAsync(cluster[2], "/meteora/admin/leave");
        Assert.True(conflictStatus == 409, $"second change: {conflictStatus} {conflict}");
        Assert.Equal("a ring change is in progress: join of node 4", conflict.GetProperty("error").GetString());
        Assert.Equal("join of node 4", conflict.GetProperty("change").GetString());
        ProcessResult cliLeave = await MeteoraProcess.RunAsync(["leave", "--node", $"http://127.0.0.1:{cluster[1].HttpPort}"]);
        Assert.Equal(1, cliLeave.ExitCode);
        Assert.Equal("meteora: a ring change is in progress: join of node 4 (HTTP 409)", cliLeave.Stderr.Trim());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TestCluster cluster, int timeoutMs = 30_000)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"condition not met within {timeoutMs} ms:\n{cluster.Diagnostics()}");
            await Task.Delay(20);
        }
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Membership;

/// <summary>Issue 9's real-mode join and leave: a fourth node joins with --join, serves its keys alone, then leaves without losing any.</summary>
public sealed class JoinLeaveTests
{
    private const int Keys = 300;

    [Fact]
    public async Task AJoinedNodeHoldsItsKeysAloneAndLeavingLosesNone()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        var latest = new Dictionary<string, string>();
        for (int i = 0; i < Keys; i++)
        {
            string key = $"key-{i}";
            latest[key] = $"v{i}";
            var (status, body) = await Api.SetAsync(cluster[i % 3].Http, key, latest[key], w: 3);
            Assert.True(status == 200, $"set {key}: {status} {body}");
        }
        for (int i = 0; i < Keys; i += 7)
        {
            string key = $"key-{i}";
            latest[key] = $"v{i}-second";
            var (status, body) = await Api.SetAsync(cluster[(i + 1) % 3].Http, key, latest[key], w: 3);
            Assert.True(status == 200, $"overwrite {key}: {status} {body}");
        }

        NodeProcess joiner = cluster.AddJoiningNode(seed: 1);
        joiner.Start();
        JsonElement ring = await RingWaits.WaitConvergedAsync(cluster, cluster.Nodes, members: 4);
        Assert.Contains(3, ring.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
        int[][] lists = RingWaits.PreferenceLists(ring);
        int partitions = ring.GetProperty("partitions").GetInt32();
        string[] mine = [.. latest.Keys.Where(k => lists[RingWaits.PartitionOf(k, partitions)].Contains(3))];
        Assert.True(mine.Length > Keys / 4, $"node 3 replicates only {mine.Length} of {Keys} keys");

        // The new node alone: every key it replicates is there, at its latest value.
        for (int node = 0; node < 3; node++) Assert.True(cluster[node].Terminate(), $"node {node} did not stop");
        var missing = new List<string>();
        foreach (string key in mine)
        {
            var (status, body) = await Api.GetAsync(joiner.Http, key, r: 1);
            if (status != 200 || body.GetProperty("value").GetString() != latest[key]) missing.Add($"{key}: {status} {body}");
        }
        Assert.True(missing.Count == 0, $"{missing.Count} of {mine.Length} keys missing or stale on the joined node: {string.Join("; ", missing.Take(5))}");

        // The three come back (with the ring they saved), then the new node leaves and its process exits 0.
        for (int node = 0; node < 3; node++) cluster[node].Start();
        await cluster.WaitReadyAsync();
        var (leaveStatus, leave) = await RingWaits.PostAsync(joiner, "/meteora/admin/leave");
        Assert.True(leaveStatus == 202, $"leave: {leaveStatus} {leave}");
        Assert.True(leave.GetProperty("ok").GetBoolean());
        Assert.Equal("leave of node 3", leave.GetProperty("change").GetString());
        Assert.Equal(0, await RingWaits.WaitForExitAsync(joiner, 90_000));
        Assert.Contains("left the ring", joiner.Output);

        NodeProcess[] rest = [cluster[0], cluster[1], cluster[2]];
        JsonElement final = await RingWaits.WaitConvergedAsync(cluster, rest, members: 3);
        Assert.Equal(new[] { 0, 1, 2 }, final.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
        foreach ((string key, string value) in latest)
        {
            var (status, body) = await Api.GetAsync(cluster[0].Http, key, r: 3);
            Assert.True(status == 200, $"get {key} after the leave: {status} {body}");
            Assert.Equal(value, body.GetProperty("value").GetString());
        }
    }
}

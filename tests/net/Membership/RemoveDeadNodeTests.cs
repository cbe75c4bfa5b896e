using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Membership;

/// <summary>Issue 9: removing a killed node re-replicates its partitions from the survivors.</summary>
public sealed class RemoveDeadNodeTests
{
    private const int Keys = 300;

    [Fact]
    public async Task AfterRemovingAKilledNodeEveryKeyReadsAtThreeFromTheSurvivors()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(4);
        for (int i = 0; i < Keys; i++)
        {
            var (status, body) = await Api.SetAsync(cluster[i % 4].Http, $"key-{i}", $"v{i}", w: 3);
            Assert.True(status == 200, $"set key-{i}: {status} {body}");
        }
        cluster[2].Kill9();
        await RingWaits.WaitDetectedDownAsync(cluster, cluster[0], node: 2); // the claimant refuses to remove a node it sees up

        var (removeStatus, removed) = await RingWaits.PostAsync(cluster[1], "/meteora/admin/remove/2"); // relayed to claimant 0
        Assert.True(removeStatus == 202, $"remove: {removeStatus} {removed}");
        Assert.Equal("remove of node 2", removed.GetProperty("change").GetString());

        NodeProcess[] survivors = [cluster[0], cluster[1], cluster[3]];
        JsonElement ring = await RingWaits.WaitConvergedAsync(cluster, survivors, members: 3);
        Assert.Equal(new[] { 0, 1, 3 }, ring.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
        foreach (int[] list in RingWaits.PreferenceLists(ring)) Assert.Equal(3, list.Distinct().Count());
        for (int i = 0; i < Keys; i++)
        {
            var (status, body) = await Api.GetAsync(survivors[i % 3].Http, $"key-{i}", r: 3);
            Assert.True(status == 200, $"get key-{i} at R=3 after the remove: {status} {body}");
            Assert.Equal($"v{i}", body.GetProperty("value").GetString());
        }
    }
}

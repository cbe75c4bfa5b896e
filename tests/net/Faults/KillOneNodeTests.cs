using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Faults;

public sealed class KillOneNodeTests
{
    [Fact]
    public async Task QuorumSurvivesKill9OfOneNodeAndTheNodeRestartsWithItsData()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        for (int i = 0; i < 20; i++)
        {
            var (status, body) = await Api.SetAsync(cluster[i % 3].Http, $"before-{i}", $"b{i}", w: 3);
            Assert.True(status == 200, body.ToString());
        }

        cluster[2].Kill9();

        // W=2 and R=2 still succeed through both survivors.
        for (int i = 0; i < 20; i++)
        {
            var (status, body) = await Api.SetAsync(cluster[i % 2].Http, $"during-{i}", $"d{i}", w: 2);
            Assert.True(status == 200, $"set during-{i}: {body}\n{cluster.Diagnostics()}");
        }
        for (int i = 0; i < 20; i++)
        {
            var (status, body) = await Api.GetAsync(cluster[(i + 1) % 2].Http, $"during-{i}", r: 2);
            Assert.True(status == 200, $"get during-{i}: {body}");
            Assert.Equal($"d{i}", body.GetProperty("value").GetString());
            var (beforeStatus, before) = await Api.GetAsync(cluster[i % 2].Http, $"before-{i}", r: 2);
            Assert.True(beforeStatus == 200, before.ToString());
        }

        // W=3 cannot be met: 503 saying how many replicas answered (at once if the link is known down,
        // possibly before the local write is durable; else at the timeout, with both survivors' acks).
        var (failStatus, fail) = await Api.SetAsync(cluster[0].Http, "needs-three", "x", w: 3);
        Assert.Equal(503, failStatus);
        Assert.InRange(fail.GetProperty("acks").GetInt32(), 0, 2);
        Assert.Equal(3, fail.GetProperty("required").GetInt32());
        Assert.Contains("of 3", fail.GetProperty("error").GetString());

        await cluster.RestartAsync(2);

        // Its local replica (answered first at R=1) still holds everything acknowledged before the kill.
        for (int i = 0; i < 20; i++)
        {
            var (status, body) = await Api.GetAsync(cluster[2].Http, $"before-{i}", r: 1);
            Assert.True(status == 200, $"restarted node lost before-{i}: {body}");
            Assert.Equal($"b{i}", body.GetProperty("value").GetString());
        }
        // Writes it missed are found through a quorum (and read-repaired onto it).
        var (missedStatus, missed) = await Api.GetAsync(cluster[2].Http, "during-0", r: 3);
        Assert.True(missedStatus == 200, missed.ToString());
        Assert.Equal("d0", missed.GetProperty("value").GetString());
        var (w3Status, w3) = await Api.SetAsync(cluster[2].Http, "needs-three", "y", w: 3);
        Assert.True(w3Status == 200, w3.ToString());
    }

    [Fact]
    public async Task TwoNodesDownMeansUnavailableForMajorityQuorums()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        cluster[1].Kill9();
        cluster[2].Kill9();
        var (setStatus, set) = await Api.SetAsync(cluster[0].Http, "k", "v", w: 2);
        Assert.Equal(503, setStatus);
        Assert.InRange(set.GetProperty("acks").GetInt32(), 0, 1);
        Assert.Equal(2, set.GetProperty("required").GetInt32());
        var (getStatus, get) = await Api.GetAsync(cluster[0].Http, "k", r: 2);
        Assert.Equal(503, getStatus);
        Assert.InRange(get.GetProperty("acks").GetInt32(), 0, 1);
        Assert.Equal(2, get.GetProperty("required").GetInt32());
        // W=1/R=1 still work on the survivor.
        Assert.Equal(200, (await Api.SetAsync(cluster[0].Http, "k1", "v", w: 1)).Status);
        Assert.Equal(200, (await Api.GetAsync(cluster[0].Http, "k1", r: 1)).Status);
    }
}

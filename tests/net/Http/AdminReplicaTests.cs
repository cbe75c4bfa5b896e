using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Http;

/// <summary>
/// <c>GET /meteora/admin/replica/{key}</c> reads one node's own copy (what a convergence check
/// compares), and every reply carries the whole version "TIMESTAMP.NODE" a history checker needs.
/// </summary>
public sealed class AdminReplicaTests(ThreeNodeClusterFixture fixture) : IClassFixture<ThreeNodeClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    private static async Task<(int Status, JsonElement Body)> ReplicaAsync(HttpClient http, string key)
    {
        using HttpResponseMessage response = await http.GetAsync($"/meteora/admin/replica/{Uri.EscapeDataString(key)}");
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    [Fact]
    public async Task EveryReplicaReportsTheValueAndVersionWrittenThenTheTombstone()
    {
        const string key = "admin-replica/one";
        var (status, set) = await Api.SetAsync(Cluster[0].Http, key, "v1", w: 3);
        Assert.True(status == 200, set.ToString());
        string version = set.GetProperty("version").GetString()!;
        Assert.Equal($"{set.GetProperty("timestamp").GetInt64()}.0", version);

        for (int node = 0; node < 3; node++)
        {
            var (replicaStatus, held) = await ReplicaAsync(Cluster[node].Http, key);
            Assert.True(replicaStatus == 200, held.ToString());
            Assert.Equal(node, held.GetProperty("node").GetInt32());
            Assert.True(held.GetProperty("replica").GetBoolean());
            Assert.True(held.GetProperty("exists").GetBoolean());
            Assert.False(held.GetProperty("tombstone").GetBoolean());
            Assert.Equal("v1", held.GetProperty("value").GetString());
            Assert.Equal(version, held.GetProperty("version").GetString());
        }

        var (deleteStatus, deleted) = await Api.DeleteAsync(Cluster[1].Http, key, w: 3);
        Assert.True(deleteStatus == 200, deleted.ToString());
        string tombstone = deleted.GetProperty("version").GetString()!;
        Assert.EndsWith(".1", tombstone, StringComparison.Ordinal);
        for (int node = 0; node < 3; node++)
        {
            var (_, held) = await ReplicaAsync(Cluster[node].Http, key);
            Assert.True(held.GetProperty("tombstone").GetBoolean());
            Assert.Equal(JsonValueKind.Null, held.GetProperty("value").ValueKind);
            Assert.Equal(tombstone, held.GetProperty("version").GetString());
        }

        // The 404 of a get names the tombstone's version (freshness of "not found" is checkable).
        var (getStatus, missing) = await Api.GetAsync(Cluster[2].Http, key, r: 3);
        Assert.Equal(404, getStatus);
        Assert.Equal(tombstone, missing.GetProperty("version").GetString());
    }

    [Fact]
    public async Task NeverWrittenKeyDoesNotExistAndABadKeyIs400()
    {
        var (status, held) = await ReplicaAsync(Cluster[0].Http, "admin-replica/never");
        Assert.Equal(200, status);
        Assert.False(held.GetProperty("exists").GetBoolean());
        Assert.Equal(JsonValueKind.Null, held.GetProperty("version").ValueKind);

        var (badStatus, bad) = await ReplicaAsync(Cluster[0].Http, new string('k', 2000));
        Assert.Equal(400, badStatus);
        Assert.Contains("key", bad.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A node whose disk is below its reserve refuses writes with 507 naming the disk and keeps serving reads.</summary>
public sealed class DiskFullHttpTests
{
    [Fact]
    public async Task WritesGet507WithTheDataDirectoryReadsAndHealthStillAnswer()
    {
        // A reserve larger than any disk: this node's disk is "full" from the start.
        await using TestCluster cluster = await TestCluster.StartAsync(1, replicationFactor: 1,
            extraArgs: ["--disk-reserve-bytes", $"{long.MaxValue}"]);
        var (status, body) = await Api.SetAsync(cluster[0].Http, "k", "v", w: 1);
        Assert.Equal(507, status);
        string error = body.GetProperty("error").GetString()!;
        Assert.StartsWith("disk full:", error, StringComparison.Ordinal);
        Assert.Contains(cluster[0].DataDir, error, StringComparison.Ordinal);

        var (deleteStatus, _) = await Api.DeleteAsync(cluster[0].Http, "k", w: 1);
        Assert.Equal(507, deleteStatus);

        var (getStatus, _) = await Api.GetAsync(cluster[0].Http, "k", r: 1);
        Assert.Equal(404, getStatus);
        using HttpResponseMessage health = await cluster[0].Http.GetAsync("/meteora/health");
        Assert.Equal("disk-full", (await Api.ReadJsonAsync(health)).GetProperty("status").GetString());
        Assert.True(cluster[0].IsRunning);
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Meteora.Engine.Hashing;
using Meteora.Engine.Ring;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Handoff;

/// <summary>
/// Hinted handoff on real processes: four nodes with N=3, so every key has one fallback. Background
/// anti-entropy is off, so a replica that was down gets the writes it missed only through hints: a
/// node that comes back holding every value proves the hints were kept, replayed and applied.
/// </summary>
public sealed class HintedHandoffTests
{
    private const int Nodes = 4;
    private const int Partitions = 64;
    private const int HintsDrainTimeoutMs = 60_000;
    private static readonly string[] NoAntiEntropy = ["--ae-interval-ms", "0", "--partitions", "64"];

    private static readonly ReplicaPlacement Placement = new(RingLayout.Create(Partitions, Enumerable.Range(0, Nodes)), 3);

    private static int[] ReplicasOf(string key) => Placement.PreferenceList(Token.OfKey(key).Partition(Partitions)).ToArray();

    private static async Task<JsonElement> HintsAsync(NodeProcess node)
    {
        using JsonDocument metrics = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/metrics"));
        return metrics.RootElement.GetProperty("hints").Clone();
    }

    /// <summary>Waits until every running node reports no pending hints; fails with each node's figures.</summary>
    private static async Task WaitUntilHintsDeliveredAsync(TestCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var figures = new List<string>();
            foreach (NodeProcess node in cluster.Nodes.Where(n => n.IsRunning))
            {
                JsonElement hints = await HintsAsync(node);
                if (hints.GetProperty("pending").GetInt64() > 0) figures.Add($"node {node.Id}: {hints}");
            }
            if (figures.Count == 0) return;
            if (clock.ElapsedMilliseconds > HintsDrainTimeoutMs)
            {
                Assert.Fail($"hints still pending after {HintsDrainTimeoutMs} ms: {string.Join("; ", figures)}\n{cluster.Diagnostics()}");
            }
            await Task.Delay(100);
        }
    }

    private static async Task<(int Status, JsonElement Body)> StrictSetAsync(HttpClient http, string key, string value, int w)
    {
        using var response = await http.PutAsJsonAsync($"/meteora/set?writeConsistency={w}&primaryWrite=true",
            new Dictionary<string, string> { ["key"] = key, ["value"] = value });
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    private static async Task<JsonElement> LocalReplicaAsync(NodeProcess node, string key)
    {
        using JsonDocument replica = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/admin/replica/" + Uri.EscapeDataString(key)));
        return replica.RootElement.Clone();
    }

    [Fact]
    public async Task WritesStayAvailableThroughFallbacksAndTheRestartedNodeGetsEveryValueFromHints()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(Nodes, extraArgs: NoAntiEntropy);
        const int down = 3;
        cluster[down].Kill9();
        for (int observer = 0; observer < down; observer++) await cluster.WaitUntilSeenDownAsync(observer, down);

        var written = new Dictionary<string, string>();
        for (int i = 0; i < 300; i++)
        {
            string key = $"hinted-{i}", value = $"v{i}";
            var (status, body) = await Api.SetAsync(cluster[i % 3].Http, key, value, w: 3);
            Assert.True(status == 200, $"set {key} at W=3 with node {down} down: {status} {body}");
            written[key] = value;
        }
        string strictKey = written.Keys.First(k => ReplicasOf(k).Contains(down));
        var (strictStatus, strict) = await StrictSetAsync(cluster[0].Http, strictKey, "strict", w: 3);
        Assert.Equal(503, strictStatus);
        Assert.Contains($"node {down}", strict.GetProperty("error").GetString());
        long pending = 0;
        for (int node = 0; node < down; node++) pending += (await HintsAsync(cluster[node])).GetProperty("pending").GetInt64();
        int replicatedByDown = written.Keys.Count(k => ReplicasOf(k).Contains(down));
        Assert.Equal(replicatedByDown, pending); // one hint per write the down node missed

        await cluster.RestartAsync(down);
        await WaitUntilHintsDeliveredAsync(cluster);
        for (int node = 0; node < down; node++) cluster[node].Terminate();

        int checkedKeys = 0;
        foreach (var (key, value) in written)
        {
            if (!ReplicasOf(key).Contains(down)) continue;
            var (status, body) = await Api.GetAsync(cluster[down].Http, key, r: 1);
            Assert.True(status == 200, $"node {down} alone does not have {key}: {status} {body}");
            Assert.Equal(value, body.GetProperty("value").GetString());
            checkedKeys++;
        }
        Assert.Equal(replicatedByDown, checkedKeys);
    }

    [Fact]
    public async Task AFallbackKilledWhileHoldingHintsReplaysThemAfterItsRestart()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(Nodes, extraArgs: NoAntiEntropy);
        const int target = 3;
        cluster[target].Kill9();
        for (int observer = 0; observer < target; observer++) await cluster.WaitUntilSeenDownAsync(observer, target);

        // Keys whose fallback (the one node outside their preference list) is node 0, written through node 1.
        const int fallback = 0;
        var keys = Enumerable.Range(0, 2_000).Select(i => $"kept-{i}")
            .Where(k => ReplicasOf(k).Contains(target) && !ReplicasOf(k).Contains(fallback)).Take(50).ToList();
        Assert.Equal(50, keys.Count);
        foreach (string key in keys)
        {
            var (status, body) = await Api.SetAsync(cluster[1].Http, key, key + "-value", w: 3);
            Assert.True(status == 200, $"set {key}: {status} {body}");
        }
        Assert.Equal(keys.Count, (await HintsAsync(cluster[fallback])).GetProperty("pending").GetInt64());

        cluster[fallback].Kill9();
        await cluster.RestartAsync(target);
        foreach (string key in keys) Assert.False((await LocalReplicaAsync(cluster[target], key)).GetProperty("exists").GetBoolean(), key);

        await cluster.RestartAsync(fallback);
        await WaitUntilHintsDeliveredAsync(cluster);
        JsonElement replayed = await HintsAsync(cluster[fallback]);
        Assert.Equal(keys.Count, replayed.GetProperty("delivered").GetInt64());
        foreach (string key in keys)
        {
            JsonElement held = await LocalReplicaAsync(cluster[target], key);
            Assert.True(held.GetProperty("exists").GetBoolean(), $"node {target} lacks {key} after the replay: {held}");
            Assert.Equal(key + "-value", held.GetProperty("value").GetString());
        }
    }

    /// <summary>
    /// Hints for a replica that is then removed from the ring are redirected to the key's current replicas,
    /// never left pending (they may be the only copy of a sloppy write) and never dropped.
    /// </summary>
    [Fact]
    public async Task HintsForARemovedNodeAreRedirectedToTheNewReplicas()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(5, extraArgs: NoAntiEntropy);
        const int removed = 4;
        cluster[removed].Kill9();
        for (int observer = 0; observer < removed; observer++) await cluster.WaitUntilSeenDownAsync(observer, removed);
        await Meteora.Tests.Net.Membership.RingWaits.WaitDetectedDownAsync(cluster, cluster[0], removed);
        var written = new Dictionary<string, string>();
        for (int i = 0; i < 100; i++)
        {
            var (status, body) = await Api.SetAsync(cluster[i % 4].Http, $"moved-{i}", $"m{i}", w: 3);
            Assert.True(status == 200, $"set moved-{i}: {status} {body}");
            written[$"moved-{i}"] = $"m{i}";
        }
        long pending = 0;
        for (int node = 0; node < removed; node++) pending += (await HintsAsync(cluster[node])).GetProperty("pending").GetInt64();
        Assert.True(pending > 0, "no write was hinted for the dead node");

        var (removeStatus, accepted) = await Meteora.Tests.Net.Membership.RingWaits.PostAsync(cluster[1], $"/meteora/admin/remove/{removed}");
        Assert.True(removeStatus == 202, $"remove: {removeStatus} {accepted}");
        NodeProcess[] survivors = [cluster[0], cluster[1], cluster[2], cluster[3]];
        await Meteora.Tests.Net.Membership.RingWaits.WaitConvergedAsync(cluster, survivors, members: 4);
        await WaitUntilHintsDeliveredAsync(cluster);
        long dropped = 0;
        for (int node = 0; node < removed; node++) dropped += (await HintsAsync(cluster[node])).GetProperty("dropped").GetInt64();
        Assert.Equal(0, dropped);
        foreach (var (key, value) in written)
        {
            using var response = await cluster[0].Http.GetAsync($"/meteora/get/{key}?readConsistency=3&primaryRead=true");
            JsonElement body = await Api.ReadJsonAsync(response);
            Assert.True((int)response.StatusCode == 200, $"strict R=3 read of {key} after the remove: {body}");
            Assert.Equal(value, body.GetProperty("value").GetString());
        }
    }

    [Theory]
    [InlineData("--hint-window-ms (Meteora:Hints:WindowMs) must be in 1..2592000000, got 0", "--hint-window-ms", "0")]
    [InlineData("--hint-replay-bytes-per-second (Meteora:Hints:ReplayBytesPerSecond) must be in 1024..10737418240, got 5", "--hint-replay-bytes-per-second", "5")]
    [InlineData("--max-hint-bytes-per-target (Meteora:Hints:MaxBytesPerTarget) must be in 1024..1099511627776, got 10", "--max-hint-bytes-per-target", "10")]
    public async Task BadHintSettingsAreExit2WithOneLine(string error, string flag, string value)
    {
        ProcessResult node = await MeteoraProcess.RunAsync(["node", "--id", "0", "--data", "/tmp/meteora-never-created", flag, value]);
        Assert.Equal(2, node.ExitCode);
        Assert.Equal($"meteora: {error}", node.Stderr.TrimEnd('\n').Split('\n').Single());
        ProcessResult cluster = await MeteoraProcess.RunAsync(["cluster", "--nodes", "2", "--data", "/tmp/meteora-never-created", flag, value]);
        Assert.Equal(2, cluster.ExitCode);
        Assert.Equal($"meteora: {error}", cluster.Stderr.TrimEnd('\n').Split('\n').Single());
    }
}

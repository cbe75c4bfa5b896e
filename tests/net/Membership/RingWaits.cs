using System.Diagnostics;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Membership;

/// <summary>Waits on ring states over <c>GET /meteora/ring</c> and admin calls for the membership tests.</summary>
public static class RingWaits
{
    public const int ConvergeTimeoutMs = 90_000;

    public static async Task<JsonElement> RingAsync(NodeProcess node)
    {
        using var cts = new CancellationTokenSource(5_000);
        using HttpResponseMessage response = await node.Http.GetAsync("/meteora/ring", cts.Token);
        return await Api.ReadJsonAsync(response);
    }

    /// <summary>
    /// Waits until every node in <paramref name="nodes"/> holds the same ring version with
    /// <paramref name="members"/> members, all normal, and no change in progress; returns that ring.
    /// </summary>
    public static async Task<JsonElement> WaitConvergedAsync(TestCluster cluster, IReadOnlyList<NodeProcess> nodes, int members, int timeoutMs = ConvergeTimeoutMs)
    {
        var clock = Stopwatch.StartNew();
        string last = "";
        while (true)
        {
            try
            {
                JsonElement[] rings = await Task.WhenAll(nodes.Select(RingAsync));
                long[] versions = [.. rings.Select(r => r.GetProperty("version").GetInt64())];
                last = string.Join(", ", rings.Select((r, i) => $"node {nodes[i].Id}: v{versions[i]} {r.GetProperty("members").GetArrayLength()} members, change {r.GetProperty("pendingChange")}"));
                bool settled = rings.All(r => r.GetProperty("pendingChange").ValueKind == JsonValueKind.Null
                    && r.GetProperty("members").GetArrayLength() == members
                    && r.GetProperty("members").EnumerateArray().All(m => m.GetProperty("status").GetString() == "normal"));
                if (settled && versions.Distinct().Count() == 1) return rings[0];
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or KeyNotFoundException)
            {
                last = e.Message;
            }
            if (clock.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"the ring did not converge on {members} normal members within {timeoutMs} ms ({last}):\n{cluster.Diagnostics()}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until <paramref name="observer"/>'s failure detector says <paramref name="node"/> is down (what a remove checks).</summary>
    public static async Task WaitDetectedDownAsync(TestCluster cluster, NodeProcess observer, int node, int timeoutMs = 30_000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            JsonElement ring = await RingAsync(observer);
            if (ring.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetInt32() == node && m.GetProperty("up").ValueKind == JsonValueKind.False)) return;
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"node {observer.Id} did not detect node {node} down within {timeoutMs} ms:\n{cluster.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    public static async Task<int> WaitForExitAsync(NodeProcess node, int timeoutMs)
    {
        var clock = Stopwatch.StartNew();
        while (node.IsRunning)
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"node {node.Id} still runs after {timeoutMs} ms:\n{node.Output}");
            await Task.Delay(100);
        }
        node.DrainOutput();
        return node.ExitCode!.Value;
    }

    public static async Task<(int Status, JsonElement Body)> PostAsync(NodeProcess node, string path)
    {
        using HttpResponseMessage response = await node.Http.PostAsync(path, content: null);
        return ((int)response.StatusCode, await Api.ReadJsonAsync(response));
    }

    /// <summary>The preference list of every partition in a <c>/meteora/ring</c> body.</summary>
    public static int[][] PreferenceLists(JsonElement ring) =>
        [.. ring.GetProperty("ring").EnumerateArray().Select(p => p.GetProperty("preferenceList").EnumerateArray().Select(e => e.GetInt32()).ToArray())];

    public static int PartitionOf(string key, int partitions) => Meteora.Engine.Hashing.Token.OfKey(key).Partition(partitions);
}

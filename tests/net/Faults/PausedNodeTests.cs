using System.Diagnostics;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Faults;

/// <summary>
/// A paused process (SIGSTOP, like a long GC pause) keeps its TCP connections open, so only the
/// heartbeat failure detector can tell it is gone. With a 60 s request timeout, a coordinator that
/// still waited on it would not answer within the test's HTTP timeout.
/// </summary>
public sealed class PausedNodeTests
{
    [Fact]
    public async Task APausedPeerIsSuspectedByPhiAndWritesNeedingItFailFastUntilItResumes()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3, requestTimeoutMs: 60_000);
        var (okStatus, ok) = await Api.SetAsync(cluster[0].Http, "before-pause", "v", w: 3);
        Assert.True(okStatus == 200, ok.ToString());
        int pid = cluster[2].Pid ?? throw new InvalidOperationException("node 2 is not running");
        Signals.Stop(pid);
        try
        {
            JsonElement peer = await WaitForPeer(cluster[0], 2, up: false);
            Assert.True(peer.GetProperty("phi").GetDouble() > 8, peer.ToString());
            Assert.Equal("up", peer.GetProperty("state").GetString()); // the TCP link itself is still connected

            using var http = new HttpClient { BaseAddress = cluster[0].Http.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
            var (status, body) = await Api.SetAsync(http, "during-pause", "x", w: 3);
            Assert.True(status == 503, $"{status} {body}");
            var (w2Status, w2) = await Api.SetAsync(http, "during-pause", "y", w: 2);
            Assert.True(w2Status == 200, $"{w2Status} {w2}");
        }
        finally
        {
            Signals.Continue(pid);
        }
        await WaitForPeer(cluster[0], 2, up: true);
        var (afterStatus, after) = await Api.SetAsync(cluster[0].Http, "after-pause", "z", w: 3);
        Assert.True(afterStatus == 200, after.ToString());
    }

    private static async Task<JsonElement> WaitForPeer(NodeProcess observer, int peer, bool up, int timeoutMs = 30_000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using JsonDocument health = JsonDocument.Parse(await observer.Http.GetStringAsync("/meteora/health"));
            JsonElement entry = health.RootElement.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("id").GetInt32() == peer);
            if (entry.GetProperty("up").GetBoolean() == up) return entry.Clone();
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"peer {peer} not {(up ? "up" : "down")} after {timeoutMs} ms: {entry}\n{observer.Output}");
            await Task.Delay(100);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meteora.Net.Security;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Security;

public sealed class PeerAuthenticationTests(ThreeNodeClusterFixture fixture) : IClassFixture<ThreeNodeClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AnImpostorWithAnotherSecretIsRefusedAndItsWritesNeverReachTheCluster()
    {
        long failuresBefore = await AuthenticationFailures(Cluster[0]);
        using var scratch = new TempDir("meteora-impostor");
        string otherSecret = Path.Combine(scratch.Path, "other.secret");
        SecretFile.CreateRandom(otherSecret);
        int[] ports = FreePorts.Take(2);
        // Claims to be node 2, lists the real cluster as its peers, and holds a different secret.
        string[] args =
        [
            "node", "--id", "2", "--http-port", Num(ports[0]), "--peer-port", Num(ports[1]),
            "--data", Path.Combine(scratch.Path, "data"), "--peers", Cluster.PeerList, "--n", "3",
            "--timeout-ms", "3000", "--cluster-secret-file", otherSecret,
        ];
        using var impostor = new NodeProcess(2, ports[0], ports[1], Path.Combine(scratch.Path, "data"), args);
        impostor.Start();
        await WaitUntilAsync(async () => await AuthenticationFailures(Cluster[0]) > failuresBefore, "node 0 to refuse the impostor", impostor);
        await impostor.WaitForHealthAsync();

        // The impostor accepts a write at W=1 (it is a replica itself) but cannot pass it on.
        var (status, body) = await Api.SetAsync(impostor.Http, "impostor-key", "forged", w: 1);
        Assert.True(status == 200, $"impostor write: {status} {body}");
        var (strictStatus, _) = await Api.SetAsync(impostor.Http, "impostor-key-2", "forged", w: 2);
        Assert.Equal(503, strictStatus);
        foreach (NodeProcess real in Cluster.Nodes)
        {
            var (getStatus, got) = await Api.GetAsync(real.Http, "impostor-key", r: 3);
            Assert.True(getStatus == 404, $"node {real.Id} returned {getStatus} {got}: the impostor's write reached the cluster");
        }
        Assert.Contains("does not match this node's cluster secret", impostor.Output);
        impostor.Terminate(5_000);
    }

    [Fact]
    public async Task ARecordedHandshakeReplayedOnANewConnectionIsRefused()
    {
        NodeProcess target = Cluster[0];
        using var recorder = new RawPeerClient();
        await recorder.ConnectAsync(target.PeerPort);
        await recorder.HandshakeAsync(Cluster.SecretKey, fromNode: 1, toNode: 0, partitions: 64);
        long failuresBefore = await AuthenticationFailures(target);

        using var replay = new RawPeerClient();
        await replay.ConnectAsync(target.PeerPort);
        foreach (byte[] frame in recorder.Sent) await replay.SendAsync(frame);
        Assert.True(await replay.WaitForCloseAsync(), "the node kept a replayed handshake's connection open");
        await WaitUntilAsync(async () => await AuthenticationFailures(target) == failuresBefore + 1, "the replay to be counted", target);
        Assert.Contains("refusing peer connection", target.Output);
        string prometheus = await target.Http.GetStringAsync("/metrics");
        string line = prometheus.Split('\n').Single(l => l.StartsWith("meteora_peer_authentication_failures_total ", StringComparison.Ordinal));
        Assert.Equal(failuresBefore + 1, (long)double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AWrongSecretIsRefusedBeforeAnyMessageIsRead()
    {
        NodeProcess target = Cluster[0];
        using var client = new RawPeerClient();
        await client.ConnectAsync(target.PeerPort);
        byte[] wrong = "not the cluster secret at all!!"u8.ToArray();
        await Assert.ThrowsAsync<Meteora.Net.Transport.PeerAuthenticationException>(() => client.HandshakeAsync(wrong, 1, 0, 64));
    }

    private static async Task<long> AuthenticationFailures(NodeProcess node)
    {
        using JsonDocument metrics = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/metrics"));
        return metrics.RootElement.GetProperty("peerAuthenticationFailures").GetInt64();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, NodeProcess node, int timeoutMs = 20_000)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"waited {timeoutMs} ms for {what}:\n{node.Output}");
            await Task.Delay(50);
        }
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Meteora.Net.Transport;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Repair;

/// <summary>
/// The repair endpoints' shapes, with a job that is guaranteed to still be running: node 0's only peer
/// is a black hole that accepts the peer connection and never answers, so every repair request waits
/// for its (long) timeout.
/// </summary>
public sealed class RepairApiTests
{
    private const int RepairTimeoutMs = 60_000;

    [Fact]
    public async Task PostIs202ThenWhileRunning409NamingTheJobAndStatusReportsProgress()
    {
        using var dir = new TempDir("meteora-repair-api");
        int[] ports = FreePorts.Take(3);
        using var blackHole = new BlackHolePeer(ports[2]);
        string dataDir = Path.Combine(dir.Path, "node-0");
        using var node = new NodeProcess(0, ports[0], ports[1], dataDir,
        [
            "node", "--id", "0", "--http-port", Num(ports[0]), "--peer-port", Num(ports[1]), "--data", dataDir,
            "--peers", $"1=127.0.0.1:{ports[2]}", "--n", "2", "--w", "1", "--r", "1",
            "--ae-interval-ms", "0", "--repair-timeout-ms", Num(RepairTimeoutMs),
        ]);
        node.Start();
        await WaitUntilPeerUpAsync(node);
        long beforeMicros = NowMicros();

        var (status, started) = await Api.StartRepairAsync(node.Http);
        Assert.True(status == 202, $"{status} {started}\n{node.Output}");
        string id = started.GetProperty("repairId").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(id));

        var (conflictStatus, conflict) = await Api.StartRepairAsync(node.Http);
        Assert.Equal(409, conflictStatus);
        Assert.Equal($"a repair is already running: {id}", conflict.GetProperty("error").GetString());
        Assert.Equal(id, conflict.GetProperty("repairId").GetString());

        var (statusCode, progress) = await Api.RepairStatusAsync(node.Http, id);
        Assert.Equal(200, statusCode);
        Assert.Equal(id, progress.GetProperty("repairId").GetString());
        Assert.Equal("running", progress.GetProperty("state").GetString());
        Assert.Equal(64, progress.GetProperty("partitionsTotal").GetInt32());
        Assert.Equal(0, progress.GetProperty("partitionsDone").GetInt32());
        Assert.Equal(0, progress.GetProperty("keysRepaired").GetInt64());
        Assert.True(progress.GetProperty("bytesSent").GetInt64() > 0, progress.ToString());
        Assert.Equal(JsonValueKind.Null, progress.GetProperty("finishedAt").ValueKind);
        Assert.Equal(0, progress.GetProperty("sessionsFailed").GetInt32());
        Assert.False(progress.GetProperty("background").GetBoolean());
        string startedAt = progress.GetProperty("startedAt").GetString()!;
        Assert.EndsWith("Z", startedAt);
        long startedMicros = IsoMicros(startedAt);
        Assert.InRange(startedMicros, beforeMicros - 1_000_000, NowMicros() + 1_000_000);

        using JsonDocument metrics = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/metrics"));
        JsonElement repair = metrics.RootElement.GetProperty("repair");
        Assert.Equal(id, repair.GetProperty("running").GetProperty("repairId").GetString());
        Assert.Equal(0, repair.GetProperty("antiEntropyIntervalMs").GetInt64());
        Assert.Equal(10, repair.GetProperty("merkleDepth").GetInt32());

        var (unknownStatus, unknown) = await Api.RepairStatusAsync(node.Http, "r-no-such-job");
        Assert.Equal(404, unknownStatus);
        Assert.Contains("repair 'r-no-such-job' not found", unknown.GetProperty("error").GetString());
        var (longStatus, longId) = await Api.RepairStatusAsync(node.Http, new string('x', 5_000));
        Assert.Equal(404, longStatus);
        Assert.True(longId.GetProperty("error").GetString()!.Length < 200);
    }

    [Theory]
    [InlineData("--merkle-depth (Meteora:Repair:MerkleDepth) must be in 0..20, got 21", "--merkle-depth", "21")]
    [InlineData("--ae-interval-ms (Meteora:Repair:AntiEntropyIntervalMs) must be in 0..86400000, got -1", "--ae-interval-ms", "-1")]
    [InlineData("--tombstone-grace-ms (Meteora:Repair:TombstoneGraceMs) must be positive, got 0", "--tombstone-grace-ms", "0")]
    [InlineData("--repair-sessions (Meteora:Repair:MaxConcurrentSessions) must be in 1..1024, got 0", "--repair-sessions", "0")]
    public async Task BadRepairSettingsAreExit2WithOneLine(string error, string flag, string value)
    {
        ProcessResult node = await MeteoraProcess.RunAsync(["node", "--id", "0", "--data", "/tmp/meteora-never-created", flag, value]);
        Assert.Equal(2, node.ExitCode);
        Assert.Equal($"meteora: {error}", node.Stderr.TrimEnd('\n').Split('\n').Single());
        ProcessResult cluster = await MeteoraProcess.RunAsync(["cluster", "--nodes", "2", "--data", "/tmp/meteora-never-created", flag, value]);
        Assert.Equal(2, cluster.ExitCode);
        Assert.Equal($"meteora: {error}", cluster.Stderr.TrimEnd('\n').Split('\n').Single());
    }

    [Fact]
    public async Task RepairSettingsComeFromTheEnvironmentToo()
    {
        var info = MeteoraProcess.StartInfo(["node", "--id", "0", "--data", "/tmp/meteora-never-created"]);
        info.Environment["Meteora__Repair__MaxAttempts"] = "0";
        using var process = System.Diagnostics.Process.Start(info)!;
        process.StandardInput.Close();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Equal("meteora: --repair-attempts (Meteora:Repair:MaxAttempts) must be in 1..100, got 0", stderr.TrimEnd('\n'));
    }

    private static async Task WaitUntilPeerUpAsync(NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(TestCluster.ReadyTimeoutMs);
        while (true)
        {
            try
            {
                using JsonDocument health = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/health"));
                if (health.RootElement.GetProperty("up").GetArrayLength() == 1) return;
            }
            catch (HttpRequestException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"node 0 did not connect to its peer:\n{node.Output}");
            await Task.Delay(50);
        }
    }

    private static long NowMicros() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;

    private static long IsoMicros(string iso) =>
        (DateTime.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal) - DateTime.UnixEpoch).Ticks / 10;

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Accepts peer connections and reads (discards) everything, never answering.</summary>
    private sealed class BlackHolePeer : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        public BlackHolePeer(int port)
        {
            _listener = new TcpListener(IPAddress.Loopback, port);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        private async Task AcceptAsync()
        {
            var readers = new List<Task>();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                    readers.Add(DrainAsync(socket));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
            await Task.WhenAll(readers);
        }

        /// <summary>Passes the node's handshake (it has no cluster secret, so the public default key), then says nothing more.</summary>
        private async Task AcceptHandshakeAsync(Socket socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] key = Meteora.Net.Security.ClusterSecret.None.Key;
            byte[] hello = await PeerDialer.ReadFrameAsync(stream, PeerHandshake.HelloBytes, _stop.Token);
            byte[] nonce = PeerHandshake.NewNonce();
            await stream.WriteAsync(PeerHandshake.Frame(PeerHandshake.EncodeChallenge(key, hello, nonce)), _stop.Token);
            byte[] proof = await PeerDialer.ReadFrameAsync(stream, PeerHandshake.ProofBytes, _stop.Token);
            PeerHandshake.VerifyDialerProof(key, hello, nonce, proof);
            await stream.WriteAsync(PeerHandshake.Frame(PeerHandshake.EncodeAccept()), _stop.Token);
        }

        private async Task DrainAsync(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[64 * 1024];
                try
                {
                    await AcceptHandshakeAsync(socket);
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                    {
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
                {
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _accepting.Wait(5_000);
            _stop.Dispose();
        }
    }
}

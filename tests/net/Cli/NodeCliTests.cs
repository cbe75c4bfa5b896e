using System.Diagnostics;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Cli;

public sealed class NodeCliTests
{
    [Theory]
    [InlineData("node id is required", "node", "--data", "/tmp/x")]
    [InlineData("data directory is required", "node", "--id", "0")]
    [InlineData("peers: peer 'garbage' is not ID=HOST:PORT", "node", "--id", "0", "--data", "/tmp/x", "--peers", "garbage")]
    [InlineData("peers: peer id 1 is listed twice", "node", "--id", "0", "--data", "/tmp/x", "--peers", "1=h:1,1=h:2")]
    [InlineData("default readConsistency must be in 1..1, got 2", "node", "--id", "0", "--data", "/tmp/x", "--r", "2")]
    [InlineData("http port and peer port must differ", "node", "--id", "0", "--data", "/tmp/x", "--http-port", "5", "--peer-port", "5")]
    [InlineData("--partitions must be a power of two", "node", "--id", "0", "--data", "/tmp/x", "--partitions", "48")]
    [InlineData("--nodes must be in 1..64, got 0", "cluster", "--nodes", "0")]
    [InlineData("option --id expects an integer, got 'n1'", "node", "--id", "n1", "--data", "/tmp/x")]
    [InlineData("phi threshold must be in 1..100", "node", "--id", "0", "--data", "/tmp/x", "--phi-threshold", "0")]
    [InlineData("heartbeat interval must be in 1..60000 ms", "node", "--id", "0", "--data", "/tmp/x", "--heartbeat-interval-ms", "0")]
    [InlineData("--host 0.0.0.0 is not a loopback address and no cluster secret is set: protected mode refuses to listen beyond loopback without --cluster-secret-file PATH",
        "node", "--id", "0", "--data", "/tmp/x", "--host", "0.0.0.0")]
    [InlineData("cluster secret (--cluster-secret-file): file /nonexistent/secret does not exist", "node", "--id", "0", "--data", "/tmp/x", "--cluster-secret-file", "/nonexistent/secret")]
    [InlineData("TLS needs all of --tls-cert, --tls-key and --tls-ca", "node", "--id", "0", "--data", "/tmp/x", "--tls-cert", "/tmp/x.pem")]
    [InlineData("API token (--api-token-file): file /nonexistent/token does not exist", "node", "--id", "0", "--data", "/tmp/x", "--api-token-file", "/nonexistent/token")]
    public async Task BadNodeConfigurationIsExit2WithOneLine(string error, params string[] args)
    {
        ProcessResult result = await MeteoraProcess.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"meteora: {error}", result.Stderr.TrimEnd('\n').Split('\n').Single()[..$"meteora: {error}".Length]);
    }

    [Fact]
    public async Task TheClusterSecretFileMayComeFromTheEnvironment()
    {
        ProcessStartInfo info = MeteoraProcess.StartInfo(["node", "--id", "0", "--data", "/tmp/x", "--host", "0.0.0.0"]);
        info.Environment["Meteora__ClusterSecretFile"] = "/nonexistent/env-secret";
        using Process process = Process.Start(info)!;
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        // Protected mode is satisfied by the variable, so the error is about the file it names.
        Assert.Equal(2, process.ExitCode);
        Assert.Equal("meteora: cluster secret (--cluster-secret-file): file /nonexistent/env-secret does not exist", stderr.Trim());
    }

    [Fact]
    public async Task ConfigFileAndEnvironmentConfigureANode()
    {
        using var dir = new TempDir("meteora-config");
        int[] ports = FreePorts.Take(2);
        string configPath = Path.Combine(dir.Path, "node.json");
        await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(new
        {
            Meteora = new { NodeId = 4, HttpPort = ports[0], PeerPort = ports[1], DataDir = Path.Combine(dir.Path, "data"), Partitions = 16 },
        }));
        ProcessStartInfo info = MeteoraProcess.StartInfo(["node", "--config", configPath]);
        info.Environment["Meteora__ReplicationFactor"] = "1";
        using Process process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}") };
            JsonElement ring = await WaitForJson(http, "/meteora/ring");
            Assert.Equal(16, ring.GetProperty("partitions").GetInt32());
            Assert.Equal(1, ring.GetProperty("replicationFactor").GetInt32());
            Assert.Equal([4], ring.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
            var (status, _) = await Api.SetAsync(http, "k", "v");
            Assert.Equal(200, status);
        }
        finally
        {
            Signals.Term(process.Id);
            Assert.True(process.WaitForExit(15_000));
        }
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task ADataDirectoryBelongsToOneNodeId()
    {
        using var dir = new TempDir("meteora-identity");
        int[] ports = FreePorts.Take(2);
        string[] Args(int id) => ["node", "--id", $"{id}", "--http-port", $"{ports[0]}", "--peer-port", $"{ports[1]}", "--data", dir.Path];

        using (Process first = Process.Start(MeteoraProcess.StartInfo(Args(0)))!)
        {
            first.BeginOutputReadLine();
            first.BeginErrorReadLine();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}") };
            await WaitForJson(http, "/meteora/health");
            Signals.Term(first.Id);
            Assert.True(first.WaitForExit(15_000));
        }
        ProcessResult second = await MeteoraProcess.RunAsync(Args(1));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"belongs to node 0, not node 1", second.Stderr);
        Assert.DoesNotContain("   at ", second.Stderr);
    }

    [Fact]
    public async Task APortInUseIsExit1WithOneLine()
    {
        using var dir = new TempDir("meteora-port");
        int[] ports = FreePorts.Take(2);
        var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, ports[0]);
        blocker.Start();
        try
        {
            ProcessResult result = await MeteoraProcess.RunAsync(["node", "--id", "0", "--http-port", $"{ports[0]}", "--peer-port", $"{ports[1]}", "--data", dir.Path]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("node 0 failed to start", result.Stderr);
            Assert.Contains("address already in use", result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
        }
        finally
        {
            blocker.Stop();
        }
    }

    [Fact]
    public async Task ADataDirectoryInTheOldStorageFormatIsExit1WithOneLine()
    {
        using var dir = new TempDir("meteora-format1");
        string dbPath = Path.Combine(dir.Path, "db");
        var families = new RocksDbSharp.ColumnFamilies
        {
            { Meteora.Net.Storage.RocksDbStorage.DataFamily, new RocksDbSharp.ColumnFamilyOptions() },
            { Meteora.Net.Storage.RocksDbStorage.HintsFamily, new RocksDbSharp.ColumnFamilyOptions() },
            { Meteora.Net.Storage.RocksDbStorage.MetadataFamily, new RocksDbSharp.ColumnFamilyOptions() },
        };
        using (var old = RocksDbSharp.RocksDb.Open(new RocksDbSharp.DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true), dbPath, families))
        {
            old.Put(new byte[] { 0, 0, 0, 1, (byte)'k' }, Meteora.Net.Storage.StoredValueCodec.Encode(new Meteora.Engine.Versioning.StoredValue(new(1, 1), [1])),
                old.GetColumnFamily(Meteora.Net.Storage.RocksDbStorage.DataFamily));
        }
        int[] ports = FreePorts.Take(2);
        ProcessResult result = await MeteoraProcess.RunAsync(["node", "--id", "0", "--http-port", $"{ports[0]}", "--peer-port", $"{ports[1]}", "--data", dir.Path]);
        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"meteora: node 0 failed to start: data directory {dbPath} uses storage format 1", line);
        Assert.Contains("move the directory aside", line);
    }

    internal static async Task<JsonElement> WaitForJson(HttpClient http, string path, int timeoutMs = 30_000)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(await http.GetStringAsync(path));
                return document.RootElement.Clone();
            }
            catch (HttpRequestException) when (deadline.ElapsedMilliseconds < timeoutMs)
            {
                await Task.Delay(100);
            }
        }
    }
}

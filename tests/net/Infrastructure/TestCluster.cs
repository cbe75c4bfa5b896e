using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>
/// K real <c>meteora node</c> processes on loopback with free ports and temp data directories.
/// The request timeout is raised to 3 s so a busy CI machine (other test assemblies run beside us)
/// does not turn slow quorums into spurious 503s.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const int RequestTimeoutMs = 3_000;
    public const int ReadyTimeoutMs = 60_000;

    private readonly TempDir _data = new("meteora-cluster");

    /// <summary>A scratch directory deleted with the cluster (certificates, token files, impostor data).</summary>
    public string ScratchDir => _data.Path;

    public TestCluster(int nodes, int replicationFactor = 3, int requestTimeoutMs = RequestTimeoutMs, IReadOnlyList<string>? extraArgs = null,
        Func<int, IReadOnlyList<string>>? nodeArgs = null, Func<HttpMessageHandler>? httpsHandler = null)
    {
        _replicationFactor = replicationFactor;
        _requestTimeoutMs = requestTimeoutMs;
        SecretFile = Path.Combine(_data.Path, "cluster.secret");
        Meteora.Net.Security.SecretFile.CreateRandom(SecretFile);
        int[] ports = FreePorts.Take(2 * nodes);
        var peers = string.Join(',', Enumerable.Range(0, nodes).Select(i => $"{i}=127.0.0.1:{ports[nodes + i]}"));
        Nodes = new NodeProcess[nodes];
        for (int i = 0; i < nodes; i++)
        {
            string dataDir = Path.Combine(_data.Path, $"node-{i}");
            string[] args =
            [
                "node", "--id", Num(i), "--http-port", Num(ports[i]), "--peer-port", Num(ports[nodes + i]),
                "--data", dataDir, "--peers", peers, "--n", Num(replicationFactor), "--timeout-ms", Num(requestTimeoutMs),
                "--cluster-secret-file", SecretFile,
                .. extraArgs ?? [],
                .. nodeArgs?.Invoke(i) ?? [],
            ];
            Nodes[i] = new NodeProcess(i, ports[i], ports[nodes + i], dataDir, args, httpsHandler?.Invoke());
        }
    }

    public NodeProcess[] Nodes { get; private set; }

    private readonly int _replicationFactor;
    private readonly int _requestTimeoutMs;

    /// <summary>
    /// A node that joins this running cluster with <c>--join</c> through <paramref name="seed"/>'s peer
    /// address. Its id is the next index (so <c>cluster[id]</c> finds it); not started yet.
    /// </summary>
    public NodeProcess AddJoiningNode(int seed, IReadOnlyList<string>? extraArgs = null)
    {
        int id = Nodes.Length;
        int[] ports = FreePorts.Take(2);
        string dataDir = Path.Combine(_data.Path, $"node-{id}");
        string[] args =
        [
            "node", "--id", Num(id), "--http-port", Num(ports[0]), "--peer-port", Num(ports[1]),
            "--data", dataDir, "--join", $"127.0.0.1:{Nodes[seed].PeerPort}", "--n", Num(_replicationFactor),
            "--timeout-ms", Num(_requestTimeoutMs), "--cluster-secret-file", SecretFile,
            .. extraArgs ?? [],
        ];
        var node = new NodeProcess(id, ports[0], ports[1], dataDir, args);
        Nodes = [.. Nodes, node];
        return node;
    }

    /// <summary>The cluster secret every node is started with (as `meteora cluster` does).</summary>
    public string SecretFile { get; }

    /// <summary>The secret's bytes as a node reads them from <see cref="SecretFile"/>.</summary>
    public byte[] SecretKey => Meteora.Net.Security.SecretFile.Read(SecretFile, "test cluster secret");

    /// <summary>Comma-separated ID=HOST:PORT peer list of this cluster.</summary>
    public string PeerList => string.Join(',', Nodes.Select(n => $"{n.Id}=127.0.0.1:{n.PeerPort}"));

    public NodeProcess this[int node] => Nodes[node];

    public static async Task<TestCluster> StartAsync(int nodes, int replicationFactor = 3, int requestTimeoutMs = RequestTimeoutMs, IReadOnlyList<string>? extraArgs = null,
        Func<int, IReadOnlyList<string>>? nodeArgs = null, Func<HttpMessageHandler>? httpsHandler = null)
    {
        var cluster = new TestCluster(nodes, replicationFactor, requestTimeoutMs, extraArgs, nodeArgs, httpsHandler);
        foreach (NodeProcess node in cluster.Nodes) node.Start();
        await cluster.WaitReadyAsync();
        return cluster;
    }

    /// <summary>Waits until every running node answers health and sees every other running node up.</summary>
    public async Task WaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            bool allReady = true;
            foreach (NodeProcess node in Nodes)
            {
                if (!node.IsRunning)
                {
                    if (node.ExitCode is not null && node.ExitCode != 137 && node.ExitCode != -1)
                    {
                        throw new InvalidOperationException($"node {node.Id} exited with {node.ExitCode}:\n{node.Output}");
                    }
                    continue;
                }
                allReady &= await IsReadyAsync(node);
            }
            if (allReady) return;
            if (deadline.ElapsedMilliseconds > ReadyTimeoutMs)
            {
                throw new TimeoutException($"cluster not ready within {ReadyTimeoutMs} ms:\n{Diagnostics()}");
            }
            await Task.Delay(100);
        }
    }

    private async Task<bool> IsReadyAsync(NodeProcess node)
    {
        try
        {
            using var cts = new CancellationTokenSource(2_000);
            using JsonDocument health = JsonDocument.Parse(await node.Http.GetStringAsync("/meteora/health", cts.Token));
            foreach (JsonElement down in health.RootElement.GetProperty("down").EnumerateArray())
            {
                int id = down.GetInt32();
                if (id < Nodes.Length && Nodes[id].IsRunning) return false;
            }
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return false;
        }
    }

    /// <summary>Waits until <paramref name="observer"/>'s peer link to <paramref name="peer"/> reports down (its transport knows).</summary>
    public async Task WaitUntilSeenDownAsync(int observer, int peer, int timeoutMs = 10_000)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using JsonDocument health = JsonDocument.Parse(await Nodes[observer].Http.GetStringAsync("/meteora/health"));
            if (health.RootElement.GetProperty("down").EnumerateArray().Any(e => e.GetInt32() == peer)) return;
            if (deadline.ElapsedMilliseconds > timeoutMs)
            {
                throw new TimeoutException($"node {observer} did not see node {peer} down within {timeoutMs} ms:\n{Diagnostics()}");
            }
            await Task.Delay(20);
        }
    }

    public async Task RestartAsync(int node)
    {
        Nodes[node].Start();
        await WaitReadyAsync();
    }

    public string Diagnostics() => string.Join("\n", Nodes.Select(n => $"== node {n.Id} (running={n.IsRunning}, exit={n.ExitCode})\n{n.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (NodeProcess node in Nodes) node.Terminate(5_000);
        foreach (NodeProcess node in Nodes) node.Dispose();
        await Task.Yield();
        _data.Dispose();
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>HTTP helpers speaking the node's JSON API.</summary>
public static class Api
{
    public static async Task<(int Status, JsonElement Body)> SetAsync(HttpClient http, string key, string value, int? w = null)
    {
        string url = "/meteora/set" + (w is null ? "" : $"?writeConsistency={w}");
        using var response = await http.PutAsJsonAsync(url, new Dictionary<string, string> { ["key"] = key, ["value"] = value });
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<(int Status, JsonElement Body)> GetAsync(HttpClient http, string key, int? r = null)
    {
        string url = "/meteora/get/" + Uri.EscapeDataString(key) + (r is null ? "" : $"?readConsistency={r}");
        using var response = await http.GetAsync(url);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<(int Status, JsonElement Body)> DeleteAsync(HttpClient http, string key, int? w = null)
    {
        string url = "/meteora/delete/" + Uri.EscapeDataString(key) + (w is null ? "" : $"?writeConsistency={w}");
        using var response = await http.DeleteAsync(url);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<(int Status, JsonElement Body)> StartRepairAsync(HttpClient http)
    {
        using var response = await http.PostAsync("/meteora/repair", content: null);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<(int Status, JsonElement Body)> RepairStatusAsync(HttpClient http, string repairId)
    {
        using var response = await http.GetAsync("/meteora/repair/" + Uri.EscapeDataString(repairId));
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json",
            $"expected a JSON body, got {response.Content.Headers.ContentType}: {text}");
        using JsonDocument document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Cli;

public sealed partial class ClusterCliTests
{
    private const int StartTimeoutMs = 60_000;

    [Fact]
    public async Task ClusterServesStopsOnSigtermAndKeepsDataAcrossRestarts()
    {
        using var dir = new TempDir("meteora-devcluster");
        int httpBase = FreePorts.TakeConsecutive(2);
        int peerBase = FreePorts.TakeConsecutive(2);
        string[] args = ["cluster", "--nodes", "2", "--http-port", $"{httpBase}", "--peer-port", $"{peerBase}", "--data", Path.Combine(dir.Path, "data"),
            "--ae-interval-ms", "0", "--merkle-depth", "8", "--tombstone-grace-ms", "3600000"];

        using (var cluster = await ClusterProcess.StartAsync(args))
        {
            Assert.Contains($"curl -X PUT -H 'Content-Type: application/json' -d '{{\"key\":\"1\", \"value\":\"1\"}}' 'http://127.0.0.1:{httpBase}/meteora/set?writeConsistency=1'", cluster.Output);
            Assert.Contains($"curl -X GET 'http://127.0.0.1:{httpBase}/meteora/get/1?readConsistency=1'", cluster.Output);
            Assert.Contains($"curl -X POST 'http://127.0.0.1:{httpBase}/meteora/repair'", cluster.Output);
            Assert.Equal(2, cluster.ChildPids.Length);

            using var node0 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpBase}") };
            using var node1 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpBase + 1}") };
            var (status, body) = await Api.SetAsync(node0, "kept", "across restarts", w: 2);
            Assert.True(status == 200, body.ToString());
            var (getStatus, got) = await Api.GetAsync(node1, "kept", r: 2);
            Assert.Equal(200, getStatus);
            Assert.Equal("across restarts", got.GetProperty("value").GetString());

            // Repair settings reach every child.
            foreach (HttpClient node in new[] { node0, node1 })
            {
                using JsonDocument metrics = JsonDocument.Parse(await node.GetStringAsync("/meteora/metrics"));
                JsonElement repair = metrics.RootElement.GetProperty("repair");
                Assert.Equal(0, repair.GetProperty("antiEntropyIntervalMs").GetInt64());
                Assert.Equal(8, repair.GetProperty("merkleDepth").GetInt32());
                Assert.Equal(3_600_000, repair.GetProperty("tombstoneGraceMs").GetInt64());
            }

            Signals.Term(cluster.Process.Id);
            Assert.True(cluster.Process.WaitForExit(20_000), "cluster did not stop on SIGTERM:\n" + cluster.Output);
            Assert.Equal(0, cluster.Process.ExitCode);
            foreach (int pid in cluster.ChildPids) Assert.False(IsAlive(pid), $"child {pid} still running");
        }

        using (var restarted = await ClusterProcess.StartAsync(args))
        {
            using var node1 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpBase + 1}") };
            var (status, got) = await Api.GetAsync(node1, "kept", r: 2);
            Assert.True(status == 200, got.ToString());
            Assert.Equal("across restarts", got.GetProperty("value").GetString());

            // If the supervisor itself is killed -9, its children notice (stdin closes) and stop.
            restarted.Process.Kill();
            var deadline = Stopwatch.StartNew();
            while (restarted.ChildPids.Any(IsAlive) && deadline.ElapsedMilliseconds < 20_000) await Task.Delay(100);
            Assert.False(restarted.ChildPids.Any(IsAlive), "children outlived their killed parent");
        }
    }

    private static bool IsAlive(int pid)
    {
        string status = $"/proc/{pid}/status";
        if (!File.Exists(status)) return false;
        try
        {
            return !File.ReadAllText(status).Contains("State:\tZ");
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\s+\d+\s+http://\S+\s+\S+\s+(\d+)\s+", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    private sealed class ClusterProcess : IDisposable
    {
        private readonly ConcurrentQueue<string> _lines = new();

        private ClusterProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }
        public string Output => string.Join('\n', _lines);
        public int[] ChildPids { get; private set; } = [];

        public static async Task<ClusterProcess> StartAsync(string[] args)
        {
            var cluster = new ClusterProcess(Process.Start(MeteoraProcess.StartInfo(args))!);
            var deadline = Stopwatch.StartNew();
            while (!cluster.Output.Contains("Press Ctrl-C"))
            {
                if (cluster.Process.HasExited || deadline.ElapsedMilliseconds > StartTimeoutMs)
                {
                    string output = cluster.Output;
                    cluster.Dispose();
                    throw new InvalidOperationException("cluster did not start:\n" + output);
                }
                await Task.Delay(100);
            }
            cluster.ChildPids = [.. TableRow().Matches(cluster.Output).Select(m => int.Parse(m.Groups[1].Value))];
            return cluster;
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Signals.Term(Process.Id);
                if (!Process.WaitForExit(20_000)) Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;
using Meteora.Tests.Tools;

namespace Meteora.Tests.Net.Metrics;

/// <summary>
/// <c>GET /metrics</c> on live nodes: the exposition passes <c>promtool check metrics</c> (format and
/// Prometheus naming lints), and the counters move by exactly the traffic this test sends. The
/// cluster is the test's own, so nothing else moves them.
/// </summary>
public sealed class PrometheusMetricsTests
{
    private const int RepairWaitMs = 60_000;

    [Fact]
    public async Task LiveNodePassesPromtoolAndCountsTheTrafficItWasSent()
    {
        string promtool = ExternalTool.Require("promtool", "prometheus");
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        HttpClient node0 = cluster[0].Http;

        for (int i = 0; i < 5; i++) Assert.Equal(200, (await Api.SetAsync(node0, $"metrics-{i}", "v", w: 3)).Status);
        for (int i = 0; i < 4; i++) Assert.Equal(200, (await Api.GetAsync(node0, $"metrics-{i}", r: 2)).Status);
        Assert.Equal(404, (await Api.GetAsync(node0, "metrics-missing", r: 2)).Status);
        Assert.Equal(400, (await Api.GetAsync(node0, "metrics-0", r: 9)).Status);
        Assert.Equal(200, (await Api.DeleteAsync(node0, "metrics-4")).Status);
        await RunRepairAsync(node0);

        string text = await node0.GetStringAsync("/metrics");
        ToolResult check = ExternalTool.Run(promtool, ["check", "metrics"], stdin: text);
        Assert.True(check.ExitCode == 0, $"promtool check metrics failed:\n{check.Stdout}{check.Stderr}");

        var m = Parse(text);
        Assert.Equal(5, m[Latency("set", "ok")]);
        Assert.Equal(4, m[Latency("get", "ok")]);
        Assert.Equal(1, m[Latency("get", "not_found")]);
        Assert.Equal(1, m[Latency("get", "invalid")]);
        Assert.Equal(1, m[Latency("delete", "ok")]);
        Assert.Equal(0, m[Latency("set", "unavailable")]);
        Assert.Equal(5, m["meteora_client_requested_consistency_total{operation=\"set\",consistency=\"3\"}"]);
        Assert.Equal(5, m["meteora_client_requested_consistency_total{operation=\"get\",consistency=\"2\"}"]);
        Assert.Equal(1, m["meteora_client_requested_consistency_total{operation=\"get\",consistency=\"9\"}"]);
        Assert.Equal(1, m["meteora_client_requested_consistency_total{operation=\"delete\",consistency=\"default\"}"]);
        // N=3 on 3 nodes: each of the 6 writes reaches all three replicas, and the coordinator keeps a
        // request until every replica answered, so it counts 3 acks per write.
        Assert.Equal(18, m["meteora_replica_responses_total{kind=\"write\",result=\"ok\"}"]);
        Assert.True(m["meteora_replica_responses_total{kind=\"read\",result=\"ok\"}"] >= 10);
        Assert.True(m["meteora_storage_writes_total"] >= 6, "node 0 replicates every key: 5 sets and a delete");
        Assert.True(m["meteora_storage_wal_syncs_total"] >= 1);
        Assert.True(m["meteora_storage_writes_per_sync_count"] >= 1);
        Assert.True(m["meteora_storage_wal_sync_duration_seconds_count"] >= 1);
        Assert.True(m["meteora_storage_memory_bytes{kind=\"memtables\"}"] > 0, "the writes above sit in a memtable");
        Assert.True(m.ContainsKey("meteora_storage_memory_bytes{kind=\"block_cache\"}"));
        Assert.True(m.ContainsKey("meteora_storage_memory_bytes{kind=\"table_readers\"}"));
        Assert.True(m["meteora_storage_memory_bytes{kind=\"value_cache\"}"] > 0, "the keys written and read above are in the value cache");
        Assert.True(m["meteora_event_loop_events_total"] >= 12);
        Assert.True(m["meteora_event_loop_event_duration_seconds_count"] >= 12);
        Assert.Equal(1, m["meteora_repair_jobs_finished_total{state=\"done\"}"]);
        Assert.Equal(0, m["meteora_repair_job_running"]);
        foreach (string peer in new[] { "1", "2" })
        {
            Assert.Equal(1, m[$"meteora_peer_link_state{{peer=\"{peer}\",state=\"up\"}}"]);
            Assert.True(m[$"meteora_peer_sent_frames_total{{peer=\"{peer}\"}}"] >= 11, $"peer {peer}: 5 sets, 5 reads and a delete at least");
            Assert.True(m[$"meteora_peer_sent_bytes_total{{peer=\"{peer}\"}}"] > m[$"meteora_peer_sent_frames_total{{peer=\"{peer}\"}}"]);
            Assert.True(m[$"meteora_peer_received_frames_total{{peer=\"{peer}\"}}"] >= 11, $"peer {peer}: acks and replies");
            Assert.True(m[$"meteora_peer_received_bytes_total{{peer=\"{peer}\"}}"] > 0);
        }
        Assert.True(m["process_cpu_seconds_total"] > 0);
        Assert.True(m["dotnet_threadpool_threads"] >= 1);
        Assert.True(m["dotnet_gc_allocated_bytes_total"] > 0);

        // A replica that is gone: W=3 cannot be met, the request is unavailable and the failure is counted.
        cluster[2].Kill9();
        await cluster.WaitUntilSeenDownAsync(0, 2);
        Assert.Equal(503, (await Api.SetAsync(node0, "metrics-after-kill", "v", w: 3)).Status);
        var after = Parse(await node0.GetStringAsync("/metrics"));
        Assert.Equal(1, after[Latency("set", "unavailable")]);
        Assert.True(after["meteora_replica_responses_total{kind=\"write\",result=\"failed\"}"] >= 1);
        Assert.Equal(1, after["meteora_peer_link_state{peer=\"2\",state=\"down\"}"]);
        Assert.True(after["meteora_peer_dropped_frames_total{peer=\"2\"}"] >= 1);
        Assert.True(after["meteora_peer_dropped_bytes_total{peer=\"2\"}"] > after["meteora_peer_dropped_frames_total{peer=\"2\"}"]);
    }

    [Fact]
    public async Task JsonMetricsKeepWorkingBesideThePrometheusEndpoint()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(1, replicationFactor: 1);
        Assert.Equal(200, (await Api.SetAsync(cluster[0].Http, "json-metrics", "v")).Status);
        using JsonDocument json = JsonDocument.Parse(await cluster[0].Http.GetStringAsync("/meteora/metrics"));
        Assert.Equal(0, json.RootElement.GetProperty("node").GetInt32());
        Assert.True(json.RootElement.GetProperty("storageWalSyncs").GetInt64() >= 1);
        using HttpResponseMessage prometheus = await cluster[0].Http.GetAsync("/metrics");
        Assert.Equal(200, (int)prometheus.StatusCode);
        Assert.Equal("text/plain", prometheus.Content.Headers.ContentType?.MediaType);
        using HttpResponseMessage post = await cluster[0].Http.PostAsync("/metrics", content: null);
        Assert.Equal(405, (int)post.StatusCode);
        Assert.Equal("GET", post.Content.Headers.Allow.Single());
        Assert.Contains("use GET", (await Api.ReadJsonAsync(post)).GetProperty("error").GetString());
    }

    private static string Latency(string operation, string outcome) =>
        $"meteora_client_request_duration_seconds_count{{operation=\"{operation}\",outcome=\"{outcome}\"}}";

    private static async Task RunRepairAsync(HttpClient node)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            var (status, body) = await Api.StartRepairAsync(node);
            if (status == 202)
            {
                string id = body.GetProperty("repairId").GetString()!;
                while (started.ElapsedMilliseconds < RepairWaitMs)
                {
                    var (_, progress) = await Api.RepairStatusAsync(node, id);
                    if (progress.GetProperty("state").GetString() == "done") return;
                    await Task.Delay(50);
                }
                throw new TimeoutException($"repair {id} not done within {RepairWaitMs} ms");
            }
            Assert.True(status == 503, $"repair start: {status} {body}"); // trees still rebuilding after start
            if (started.ElapsedMilliseconds > RepairWaitMs) throw new TimeoutException("repair never started");
            await Task.Delay(100);
        }
    }

    /// <summary>Series (name with its labels, as exposed) to value; comment lines skipped.</summary>
    private static Dictionary<string, double> Parse(string exposition)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return series;
    }
}

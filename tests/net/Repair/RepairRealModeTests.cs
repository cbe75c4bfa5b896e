using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Repair;

/// <summary>
/// Issue 5 in real mode: a node misses writes, overwrites and deletes while it is down; after it
/// restarts, one on-demand repair job (background anti-entropy is off, there is no hinted handoff,
/// and nothing reads through it first) must leave it holding every key at its latest version alone.
/// </summary>
public sealed class RepairRealModeTests
{
    private const int NewKeys = 300;
    private const int OldKeys = 60;
    private const int WriteParallelism = 8;
    private const int RepairTimeoutMs = 30_000;
    private const int TreesReadyTimeoutMs = 10_000;

    [Fact]
    public async Task ARestartedNodeGetsEveryMissedWriteAndDeleteFromOneRepairJob()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3, extraArgs: ["--ae-interval-ms", "0"]);
        var expected = new Dictionary<string, string?>();

        // Keys node 2 holds before it goes down: some will be deleted, some overwritten while it is away.
        await ForEach(Enumerable.Range(0, OldKeys), async i =>
        {
            var (status, body) = await Api.SetAsync(cluster[i % 3].Http, $"old-{i}", $"old-v1-{i}", w: 3);
            Assert.True(status == 200, $"set old-{i}: {body}");
        });
        cluster[2].Kill9();

        await ForEach(Enumerable.Range(0, NewKeys), i => Set(cluster, i, $"new-{i}", $"new-v1-{i}"));
        foreach (int i in Enumerable.Range(0, NewKeys)) expected[$"new-{i}"] = $"new-v1-{i}";
        foreach (int i in Enumerable.Range(0, OldKeys)) expected[$"old-{i}"] = $"old-v1-{i}";

        // Overwrites (a fifth of the new keys, a third of the old ones), then deletes (some of them overwritten first).
        string[] overwrite = [.. Enumerable.Range(0, NewKeys).Where(i => i % 5 == 0).Select(i => $"new-{i}"), .. Enumerable.Range(0, OldKeys).Where(i => i % 3 == 1).Select(i => $"old-{i}")];
        await ForEach(Enumerable.Range(0, overwrite.Length), i => Set(cluster, i, overwrite[i], $"{overwrite[i]}-v2"));
        foreach (string key in overwrite) expected[key] = $"{key}-v2";
        string[] delete = [.. Enumerable.Range(0, NewKeys).Where(i => i % 7 == 0).Select(i => $"new-{i}"), .. Enumerable.Range(0, OldKeys).Where(i => i % 3 == 0).Select(i => $"old-{i}")];
        await ForEach(Enumerable.Range(0, delete.Length), async i =>
        {
            var (status, body) = await Api.DeleteAsync(cluster[i % 2].Http, delete[i], w: 2);
            Assert.True(status == 200, $"delete {delete[i]}: {body}");
        });
        foreach (string key in delete) expected[key] = null;
        int changedWhileDown = NewKeys + overwrite.Count(k => k.StartsWith("old-", StringComparison.Ordinal)) + delete.Count(k => k.StartsWith("old-", StringComparison.Ordinal));

        await cluster.RestartAsync(2);
        var (startStatus, started) = await Api.StartRepairAsync(cluster[2].Http);
        for (var treesBuilt = Stopwatch.StartNew(); startStatus == 503 && treesBuilt.ElapsedMilliseconds < TreesReadyTimeoutMs;)
        {
            // Its Merkle trees are still being rebuilt from RocksDB after the restart.
            await Task.Delay(100);
            (startStatus, started) = await Api.StartRepairAsync(cluster[2].Http);
        }
        Assert.True(startStatus == 202, $"{startStatus} {started}\n{cluster.Diagnostics()}");
        string id = started.GetProperty("repairId").GetString()!;

        JsonElement final = await WaitForRepairAsync(cluster, id);
        Assert.True(final.GetProperty("state").GetString() == "done", $"repair ended {final}\n{cluster.Diagnostics()}");
        Assert.Equal(0, final.GetProperty("sessionsFailed").GetInt32());
        Assert.Equal(64, final.GetProperty("partitionsTotal").GetInt32());
        Assert.Equal(64, final.GetProperty("partitionsDone").GetInt32());
        Assert.True(final.GetProperty("keysRepaired").GetInt64() >= changedWhileDown, $"expected at least {changedWhileDown} keys repaired: {final}");
        Assert.True(final.GetProperty("bytesSent").GetInt64() > 0, final.ToString());
        DateTime startedAt = Iso(final.GetProperty("startedAt").GetString()!);
        DateTime finishedAt = Iso(final.GetProperty("finishedAt").GetString()!);
        Assert.True(finishedAt >= startedAt, final.ToString());

        // Node 2 alone: every key at its latest value, deleted keys gone.
        cluster[0].Kill9();
        cluster[1].Kill9();
        var wrong = new List<string>();
        foreach ((string key, string? value) in expected.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var (status, body) = await Api.GetAsync(cluster[2].Http, key, r: 1);
            if (value is null && status != 404) wrong.Add($"{key}: expected 404 (deleted), got {status} {body}");
            if (value is not null && (status != 200 || body.GetProperty("value").GetString() != value)) wrong.Add($"{key}: expected '{value}', got {status} {body}");
        }
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {expected.Count} keys wrong on the repaired node (repair {final}):\n{string.Join('\n', wrong.Take(20))}");
    }

    private static async Task Set(TestCluster cluster, int i, string key, string value)
    {
        var (status, body) = await Api.SetAsync(cluster[i % 2].Http, key, value, w: 2);
        Assert.True(status == 200, $"set {key}: {body}");
    }

    private static async Task<JsonElement> WaitForRepairAsync(TestCluster cluster, string id)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (status, body) = await Api.RepairStatusAsync(cluster[2].Http, id);
            Assert.True(status == 200, $"{status} {body}");
            Assert.Equal(id, body.GetProperty("repairId").GetString());
            if (body.GetProperty("state").GetString() != "running") return body;
            Assert.Equal(JsonValueKind.Null, body.GetProperty("finishedAt").ValueKind);
            Assert.True(deadline.ElapsedMilliseconds < RepairTimeoutMs, $"repair {id} still running after {RepairTimeoutMs} ms: {body}\n{cluster.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    private static Task ForEach(IEnumerable<int> items, Func<int, Task> body) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism }, async (i, _) => await body(i));

    private static DateTime Iso(string text)
    {
        Assert.EndsWith("Z", text);
        return DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }
}

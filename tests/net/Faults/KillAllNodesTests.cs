using System.Collections.Concurrent;
using Meteora.Tests.Net.Infrastructure;
using Xunit.Abstractions;

namespace Meteora.Tests.Net.Faults;

public sealed class KillAllNodesTests(ITestOutputHelper output)
{
    /// <summary>
    /// W=3 acks only after all three replicas fsynced the write, so a power-cut-like kill -9 of the
    /// whole cluster in the middle of a write storm must not lose any acknowledged write on any node.
    /// </summary>
    [Fact]
    public async Task EveryWriteAcknowledgedAtW3SurvivesKill9OfEveryNode()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stopWriters = new CancellationTokenSource();
        int attempts = 0;

        async Task Writer(int writer)
        {
            for (int i = 0; !stopWriters.IsCancellationRequested; i++)
            {
                string key = $"w{writer}-{i}";
                string value = $"value-{writer}-{i}-{new string('x', i % 100)}";
                Interlocked.Increment(ref attempts);
                try
                {
                    var (status, _) = await Api.SetAsync(cluster[(writer + i) % 3].Http, key, value, w: 3);
                    if (status == 200) acknowledged[key] = value;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    // The node died mid-request: not acknowledged, no claim.
                }
            }
        }

        Task[] writers = [.. Enumerable.Range(0, 6).Select(w => Task.Run(() => Writer(w)))];
        await Task.Delay(1_500);
        foreach (NodeProcess node in cluster.Nodes) node.Kill9();
        await stopWriters.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Count >= 20, $"only {acknowledged.Count} of {attempts} writes acknowledged before the kill:\n{cluster.Diagnostics()}");

        output.WriteLine($"{acknowledged.Count} of {attempts} writes acknowledged at W=3 before kill -9 of every node");
        foreach (NodeProcess node in cluster.Nodes) node.Start();
        await cluster.WaitReadyAsync();

        // R=1 answers from the coordinator's own disk first, so this checks every node's local copy.
        var lost = new List<string>();
        foreach ((string key, string value) in acknowledged)
        {
            for (int node = 0; node < 3; node++)
            {
                var (status, body) = await Api.GetAsync(cluster[node].Http, key, r: 1);
                if (status != 200 || body.GetProperty("value").GetString() != value) lost.Add($"{key}@node{node}: {status} {body}");
            }
        }
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost, e.g. {string.Join("; ", lost.Take(5))}");
    }
}

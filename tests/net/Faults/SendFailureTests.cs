using System.Diagnostics;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Faults;

/// <summary>
/// When the peer transport knows a replica is unreachable (its link is down), the coordinator hears of
/// every message it could not send and fails a quorum that cannot be met at once, not after the
/// request timeout. The timeout is set long (10 s) so "fast" has a wide margin on a busy machine.
/// </summary>
public sealed class SendFailureTests
{
    private const int RequestTimeoutMs = 10_000;
    private const int FastAnswerMs = RequestTimeoutMs / 2;

    [Fact]
    public async Task QuorumThatCannotBeMetFailsWellBeforeTheTimeoutWhenAPeerIsDown()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3, requestTimeoutMs: RequestTimeoutMs);
        cluster[2].Kill9();
        await cluster.WaitUntilSeenDownAsync(observer: 0, peer: 2);

        var clock = Stopwatch.StartNew();
        var (status, body) = await Api.SetAsync(cluster[0].Http, "needs-three", "x", w: 3);
        long writeMs = clock.ElapsedMilliseconds;
        Assert.True(status == 503, $"{status} {body}");
        // It answers as soon as it knows W=3 is out of reach, possibly before the local write is durable.
        Assert.InRange(body.GetProperty("acks").GetInt32(), 0, 2);
        Assert.Equal(3, body.GetProperty("required").GetInt32());
        Assert.Contains("unreachable", body.GetProperty("error").GetString());
        Assert.True(writeMs < FastAnswerMs, $"W=3 with a peer down took {writeMs} ms (timeout {RequestTimeoutMs} ms): {body}");

        clock.Restart();
        var (readStatus, read) = await Api.GetAsync(cluster[0].Http, "needs-three", r: 3);
        long readMs = clock.ElapsedMilliseconds;
        Assert.True(readStatus == 503, $"{readStatus} {read}");
        Assert.Equal(3, read.GetProperty("required").GetInt32());
        Assert.True(readMs < FastAnswerMs, $"R=3 with a peer down took {readMs} ms (timeout {RequestTimeoutMs} ms): {read}");

        // Quorums that can be met are unaffected.
        var (okStatus, ok) = await Api.SetAsync(cluster[0].Http, "needs-two", "y", w: 2);
        Assert.True(okStatus == 200, ok.ToString());

        using JsonDocument metrics = JsonDocument.Parse(await cluster[0].Http.GetStringAsync("/meteora/metrics"));
        Assert.True(metrics.RootElement.GetProperty("peerSendFailuresReported").GetInt64() >= 2, metrics.RootElement.ToString());
    }
}

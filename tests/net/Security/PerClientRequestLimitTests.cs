using System.Net;
using Meteora.Net.Http;

namespace Meteora.Tests.Net.Security;

/// <summary>The per-client in-flight limit (the HTTP 429 itself is covered by <see cref="HttpLimitTests"/>).</summary>
public sealed class PerClientRequestLimitTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void A_client_gets_its_limit_and_no_more_and_others_are_not_affected()
    {
        var limit = new PerClientRequestLimit(2);
        Assert.True(limit.TryEnter(A));
        Assert.True(limit.TryEnter(A));
        Assert.False(limit.TryEnter(A));
        Assert.True(limit.TryEnter(B));
        limit.Exit(A);
        Assert.True(limit.TryEnter(A));
        Assert.Equal(2, limit.Clients);
    }

    [Fact]
    public void A_client_entry_goes_with_its_last_request_and_an_unmatched_exit_throws()
    {
        var limit = new PerClientRequestLimit(3);
        Assert.True(limit.TryEnter(A));
        Assert.True(limit.TryEnter(A));
        limit.Exit(A);
        limit.Exit(A);
        Assert.Equal(0, limit.Clients);
        Assert.Throws<InvalidOperationException>(() => limit.Exit(A));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PerClientRequestLimit(0));
    }

    [Fact]
    public async Task Concurrent_enters_never_exceed_the_limit_and_all_exits_leave_nothing()
    {
        const int Limit = 4;
        var limit = new PerClientRequestLimit(Limit);
        int inside = 0, maxInside = 0, admitted = 0;
        Task[] workers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (!limit.TryEnter(A)) continue;
                int now = Interlocked.Increment(ref inside);
                int seen;
                while ((seen = Volatile.Read(ref maxInside)) < now && Interlocked.CompareExchange(ref maxInside, now, seen) != seen)
                {
                }
                Interlocked.Increment(ref admitted);
                Interlocked.Decrement(ref inside);
                limit.Exit(A);
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.InRange(maxInside, 1, Limit);
        Assert.True(admitted > 0);
        Assert.Equal(0, limit.Clients);
    }
}

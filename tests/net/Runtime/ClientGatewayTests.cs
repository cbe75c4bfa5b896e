using Meteora.Engine.Node;
using Meteora.Net.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meteora.Tests.Net.Runtime;

/// <summary>
/// The gateway's one watchdog timer replaces a timer per request: a request the loop never answers
/// fails with a timeout once past the response limit, and an answered one completes exactly once.
/// </summary>
public sealed class ClientGatewayTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static ClientResult Answer(long requestId, ClientStatus status) =>
        new(requestId, ClientOperation.Get, status, "b", null, default, 1, 1, null);

    [Fact]
    public async Task A_request_on_a_loop_that_never_runs_fails_with_a_timeout_past_the_limit()
    {
        // A loop that is never started stands for a stuck one: the request waits in its channel.
        using var loop = new EventLoop(NullLogger<EventLoop>.Instance);
        using var gateway = new ClientGateway(responseLimitMs: 300);
        gateway.Attach(loop);
        Task<ClientResult> stuck = gateway.SubmitAsync(ClientOperation.Get, "k", null, null, CancellationToken.None);
        Assert.Equal(1, gateway.Waiting);
        TimeoutException timeout = await Assert.ThrowsAsync<TimeoutException>(() => stuck.WaitAsync(HangGuard));
        Assert.Contains("300 ms", timeout.Message);
        Assert.Equal(0, gateway.Waiting);
    }

    [Fact]
    public async Task An_answer_completes_the_request_once_and_a_late_answer_is_ignored()
    {
        using var loop = new EventLoop(NullLogger<EventLoop>.Instance);
        using var gateway = new ClientGateway(responseLimitMs: 60_000);
        gateway.Attach(loop);
        Task<ClientResult> first = gateway.SubmitAsync(ClientOperation.Get, "a", null, null, CancellationToken.None);
        Task<ClientResult> second = gateway.SubmitAsync(ClientOperation.Get, "b", null, null, CancellationToken.None);
        // Request ids are 1 and 2 in submission order; the engine would answer through Respond.
        gateway.Respond(Answer(2, ClientStatus.NotFound));
        ClientResult answered = await second.WaitAsync(HangGuard);
        Assert.Equal(ClientStatus.NotFound, answered.Status);
        Assert.False(first.IsCompleted);
        gateway.Respond(Answer(2, ClientStatus.Ok)); // a duplicate answer changes nothing
        Assert.Equal(1, gateway.Waiting);
        gateway.AbandonAll();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => first.WaitAsync(HangGuard));
        Assert.Equal(0, gateway.Waiting);
    }
}

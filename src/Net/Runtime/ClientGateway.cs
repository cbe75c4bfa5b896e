using System.Collections.Concurrent;
using System.Diagnostics;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;

namespace Meteora.Net.Runtime;

/// <summary>
/// Bridges async callers (HTTP handlers) and the engine: a request is registered under a host-chosen
/// id, posted to the loop, and completed when the engine answers through <see cref="IClientResponder"/>.
/// <para>
/// The engine answers every request within its own request timeout, so a request still waiting
/// <see cref="ResponseLimitMs"/> after it was submitted means the loop is stuck. One watchdog timer per
/// gateway fails such requests with a <see cref="TimeoutException"/> (issue 11: a timer per request,
/// from <c>Task.WaitAsync</c>, cost a timer-queue lock and three allocations on every request).
/// Whoever removes a request from the map completes it, so each completes exactly once.
/// </para>
/// </summary>
public sealed class ClientGateway : IClientResponder, IDisposable
{
    /// <summary>How often the watchdog looks for requests past their limit (they fail up to this much late).</summary>
    public const int WatchdogPeriodMs = 250;

    private readonly ConcurrentDictionary<long, Pending> _waiting = new();
    private readonly long _responseLimitTicks;
    private readonly Timer _watchdog;
    private EventLoop? _loop;
    private long _nextId;

    public ClientGateway(long responseLimitMs)
    {
        if (responseLimitMs < 1) throw new ArgumentOutOfRangeException(nameof(responseLimitMs), responseLimitMs, "the response limit must be positive");
        ResponseLimitMs = responseLimitMs;
        _responseLimitTicks = responseLimitMs * Stopwatch.Frequency / 1000;
        _watchdog = new Timer(static state => ((ClientGateway)state!).FailOverdue(), this, WatchdogPeriodMs, WatchdogPeriodMs);
    }

    /// <summary>Past this, a request the engine has not answered fails with <see cref="TimeoutException"/>.</summary>
    public long ResponseLimitMs { get; }

    public void Attach(EventLoop loop) => _loop = loop ?? throw new ArgumentNullException(nameof(loop));

    public int Waiting => _waiting.Count;

    /// <summary>Latency per operation and outcome; set before the first request.</summary>
    public Metrics.ClientMetrics? Metrics { get; set; }

    public async Task<ClientResult> SubmitAsync(ClientOperation operation, string key, byte[]? value, int? consistency, CancellationToken cancellationToken,
        bool primaryOnly = false)
    {
        EventLoop loop = _loop ?? throw new InvalidOperationException("gateway is not attached to an event loop");
        long id = Interlocked.Increment(ref _nextId);
        var request = new ClientRequest(id, operation, key, value, consistency, primaryOnly);
        var pending = new Pending(Stopwatch.GetTimestamp());
        // Registered before the post: the engine may answer as soon as the loop runs the event.
        _waiting[id] = pending;
        try
        {
            await loop.PostAsync(new ClientRequestEvent(this, request), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _waiting.TryRemove(id, out _);
            throw;
        }
        ClientResult result = await pending.Task.ConfigureAwait(false);
        Metrics?.Observe(operation, consistency, result.Status, Stopwatch.GetElapsedTime(pending.SubmittedTimestamp));
        return result;
    }

    /// <summary>After the loop has stopped: fails every request still waiting for the engine.</summary>
    public void AbandonAll()
    {
        foreach (long id in _waiting.Keys) Fail(id, new ObjectDisposedException("the node is shutting down"));
    }

    public void Respond(ClientResult result)
    {
        if (_waiting.TryRemove(result.RequestId, out Pending? pending)) pending.TrySetResult(result);
    }

    private void Fail(long id, Exception reason)
    {
        if (_waiting.TryRemove(id, out Pending? pending)) pending.TrySetException(reason);
    }

    private void FailOverdue()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (KeyValuePair<long, Pending> entry in _waiting)
        {
            if (now - entry.Value.SubmittedTimestamp < _responseLimitTicks) continue;
            Fail(entry.Key, new TimeoutException($"node did not answer within {ResponseLimitMs} ms"));
        }
    }

    public void Dispose() => _watchdog.Dispose();

    /// <summary>A request's completion and when it was submitted (one allocation for both).</summary>
    private sealed class Pending(long submittedTimestamp) : TaskCompletionSource<ClientResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long SubmittedTimestamp { get; } = submittedTimestamp;
    }

    private sealed class ClientRequestEvent(ClientGateway gateway, ClientRequest request) : LoopEvent
    {
        public override void Run(MeteoraNode node) => node.OnClientRequest(request);

        public override void Abandon(Exception reason) => gateway.Fail(request.Id, reason);
    }
}

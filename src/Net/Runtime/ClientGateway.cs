using System.Diagnostics;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;

namespace Meteora.Net.Runtime;

/// <summary>
/// Bridges async callers (HTTP handlers) and the engine: a request is posted to the loop with a
/// completion source, registered there under a host-chosen id, and completed when the engine
/// answers through <see cref="IClientResponder"/>. The map is only touched on the loop thread.
/// </summary>
public sealed class ClientGateway : IClientResponder
{
    private readonly Dictionary<long, TaskCompletionSource<ClientResult>> _waiting = new();
    private EventLoop? _loop;
    private long _nextId;

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
        var completion = new TaskCompletionSource<ClientResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        long started = Stopwatch.GetTimestamp();
        await loop.PostAsync(new ClientRequestEvent(this, request, completion), cancellationToken).ConfigureAwait(false);
        ClientResult result = await completion.Task.ConfigureAwait(false);
        Metrics?.Observe(operation, consistency, result.Status, Stopwatch.GetElapsedTime(started));
        return result;
    }

    /// <summary>After the loop has stopped: fails every request still waiting for the engine.</summary>
    public void AbandonAll()
    {
        foreach (TaskCompletionSource<ClientResult> completion in _waiting.Values)
        {
            completion.TrySetException(new ObjectDisposedException("the node is shutting down"));
        }
        _waiting.Clear();
    }

    public void Respond(ClientResult result)
    {
        if (_waiting.Remove(result.RequestId, out TaskCompletionSource<ClientResult>? completion))
        {
            completion.TrySetResult(result);
        }
    }

    private sealed class ClientRequestEvent(ClientGateway gateway, ClientRequest request, TaskCompletionSource<ClientResult> completion) : LoopEvent
    {
        public override void Run(MeteoraNode node)
        {
            // Register before calling in: the engine may answer synchronously (bad input, local R=1 read).
            gateway._waiting.Add(request.Id, completion);
            node.OnClientRequest(request);
        }

        public override void Abandon(Exception reason)
        {
            gateway._waiting.Remove(request.Id);
            completion.TrySetException(reason);
        }
    }
}

using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Meteora.Net.Security;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>
/// The engine's <see cref="ITransport"/>: one <see cref="PeerLink"/> per other ring member. A message
/// that is definitely not sent (peer down, queue full, or dropped from the queue when the connection
/// broke) is reported to the <see cref="ISendFailureSink"/>, so the engine can fail a quorum at once
/// instead of waiting for its timeout.
/// </summary>
public sealed class PeerTransport : ITransport, IAsyncDisposable
{
    private readonly Dictionary<int, PeerLink> _links = new();
    private readonly PeerLink[] _ordered;
    private readonly ISendFailureSink? _failures;
    private long _sendFailuresReported;

    public PeerTransport(int localNodeId, int partitionCount, IEnumerable<PeerEndpoint> peers, ILoggerFactory loggers,
        ISendFailureSink? failures = null, ClusterSecret? secret = null, TlsSettings? tls = null)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(loggers);
        ILogger logger = loggers.CreateLogger<PeerTransport>();
        _failures = failures;
        foreach (PeerEndpoint peer in peers)
        {
            if (peer.NodeId == localNodeId) continue;
            var dialer = new PeerDialer(peer, localNodeId, partitionCount, secret ?? ClusterSecret.None, tls);
            if (!_links.TryAdd(peer.NodeId, new PeerLink(dialer, logger, ReportFailure)))
            {
                throw new ArgumentException($"peer {peer.NodeId} is listed twice", nameof(peers));
            }
        }
        _ordered = [.. _links.Values.OrderBy(l => l.Endpoint.NodeId)];
    }

    /// <summary>Links in ascending peer id order.</summary>
    public IReadOnlyList<PeerLink> Links => _ordered;

    /// <summary>Messages reported to the engine as not sent.</summary>
    public long SendFailuresReported => Interlocked.Read(ref _sendFailuresReported);

    public void Start()
    {
        foreach (PeerLink link in _ordered) link.Start();
    }

    public void Send(int toNode, Message message)
    {
        if (!_links.TryGetValue(toNode, out PeerLink? link))
        {
            throw new ArgumentException($"node {toNode} is not a known peer", nameof(toNode));
        }
        if (!link.TrySend(message)) ReportFailure(toNode, message);
    }

    private void ReportFailure(int toNode, Message message)
    {
        if (_failures is null) return;
        Interlocked.Increment(ref _sendFailuresReported);
        _failures.OnSendFailed(toNode, message);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PeerLink link in _ordered) await link.DisposeAsync().ConfigureAwait(false);
    }
}

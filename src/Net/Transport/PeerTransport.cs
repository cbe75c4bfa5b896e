using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>The engine's <see cref="ITransport"/>: one <see cref="PeerLink"/> per other ring member.</summary>
public sealed class PeerTransport : ITransport, IAsyncDisposable
{
    private readonly Dictionary<int, PeerLink> _links = new();
    private readonly PeerLink[] _ordered;

    public PeerTransport(int localNodeId, int partitionCount, IEnumerable<PeerEndpoint> peers, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(loggers);
        ILogger logger = loggers.CreateLogger<PeerTransport>();
        foreach (PeerEndpoint peer in peers)
        {
            if (peer.NodeId == localNodeId) continue;
            var handshake = new Handshake(localNodeId, peer.NodeId, partitionCount);
            if (!_links.TryAdd(peer.NodeId, new PeerLink(peer, handshake, logger)))
            {
                throw new ArgumentException($"peer {peer.NodeId} is listed twice", nameof(peers));
            }
        }
        _ordered = [.. _links.Values.OrderBy(l => l.Endpoint.NodeId)];
    }

    /// <summary>Links in ascending peer id order.</summary>
    public IReadOnlyList<PeerLink> Links => _ordered;

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
        link.TrySend(message);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PeerLink link in _ordered) await link.DisposeAsync().ConfigureAwait(false);
    }
}

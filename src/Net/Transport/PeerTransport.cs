using Meteora.Engine;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Meteora.Net.Security;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>
/// The engine's <see cref="ITransport"/>: one <see cref="PeerLink"/> per known peer. Peers come from
/// <c>--peers</c> at start and from every ring state the node adopts (<see cref="AddPeer"/>), so members
/// that join later are dialled too. Links of members that left are kept: a departing node still hands
/// its partitions off, and those sessions need answers. A message that is definitely not sent (no
/// address known for the node, peer down, queue full, or dropped from the queue when the connection
/// broke) is reported to the <see cref="ISendFailureSink"/>, so the engine can fail a quorum at once
/// instead of waiting for its timeout.
/// </summary>
public sealed class PeerTransport : ITransport, IAsyncDisposable
{
    /// <summary>Links kept at most: one per possible ring member.</summary>
    public const int MaxLinks = Limits.MaxNodes;

    private readonly int _localNodeId;
    private readonly int _partitionCount;
    private readonly ClusterSecret _secret;
    private readonly TlsSettings? _tls;
    private readonly ILogger _logger;
    private readonly ISendFailureSink? _failures;
    private readonly Lock _writeLock = new();

    /// <summary>Replaced as a whole on every change (copy on write), so <see cref="Send"/> reads it without a lock.</summary>
    private volatile Dictionary<int, PeerLink> _links = new();
    private volatile PeerLink[] _ordered = [];
    private bool _started;
    private bool _disposed;
    private long _sendFailuresReported;
    private long _unknownPeerSends;

    public PeerTransport(int localNodeId, int partitionCount, IEnumerable<PeerEndpoint> peers, ILoggerFactory loggers,
        ISendFailureSink? failures = null, ClusterSecret? secret = null, TlsSettings? tls = null)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(loggers);
        _localNodeId = localNodeId;
        _partitionCount = partitionCount;
        _secret = secret ?? ClusterSecret.None;
        _tls = tls;
        _logger = loggers.CreateLogger<PeerTransport>();
        _failures = failures;
        var seen = new HashSet<int>();
        foreach (PeerEndpoint peer in peers)
        {
            if (peer.NodeId == localNodeId) continue;
            if (!seen.Add(peer.NodeId)) throw new ArgumentException($"peer {peer.NodeId} is listed twice", nameof(peers));
            AddPeer(peer);
        }
    }

    /// <summary>Links in ascending peer id order.</summary>
    public IReadOnlyList<PeerLink> Links => _ordered;

    /// <summary>Messages reported to the engine as not sent.</summary>
    public long SendFailuresReported => Interlocked.Read(ref _sendFailuresReported);

    /// <summary>Messages for a node whose address this node does not know (reported as not sent).</summary>
    public long UnknownPeerSends => Interlocked.Read(ref _unknownPeerSends);

    public bool Knows(int node) => _links.ContainsKey(node);

    /// <summary>An inbound connection from <paramref name="node"/> passed the handshake: our link to it stops waiting out its backoff.</summary>
    public void PeerConnected(int node)
    {
        if (_links.TryGetValue(node, out PeerLink? link)) link.RetryNow();
    }

    public void Start()
    {
        lock (_writeLock)
        {
            _started = true;
            foreach (PeerLink link in _ordered) link.Start();
        }
    }

    /// <summary>
    /// Makes sure <paramref name="peer"/> has a link at its address: adds one (started at once if the
    /// transport runs), or replaces a link that dials another address (the ring's address wins). Never
    /// blocks: a replaced link is disposed on the thread pool. Safe from any thread; the event loop calls
    /// it when it adopts a ring. Returns false when the peer is this node or no room is left.
    /// </summary>
    public bool AddPeer(PeerEndpoint peer, Func<int, bool>? evictable = null) => AddPeer(peer, evictable, replace: true);

    /// <summary>As <see cref="AddPeer(PeerEndpoint, Func{int, bool}?)"/>, but never replaces a known peer's link (an address a node announced of itself).</summary>
    public bool AddPeerIfUnknown(PeerEndpoint peer, Func<int, bool>? evictable = null) => AddPeer(peer, evictable, replace: false);

    private bool AddPeer(PeerEndpoint peer, Func<int, bool>? evictable, bool replace)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.NodeId == _localNodeId) return false;
        PeerLink? replaced = null;
        lock (_writeLock)
        {
            if (_disposed) return false;
            Dictionary<int, PeerLink> links = _links;
            if (links.TryGetValue(peer.NodeId, out PeerLink? existing))
            {
                if (existing.Endpoint == peer || !replace) return true;
                replaced = existing;
            }
            var next = new Dictionary<int, PeerLink>(links);
            if (replaced is null && next.Count >= MaxLinks && !EvictOne(next, evictable))
            {
                _logger.LogWarning("not dialling node {Node}: this node already keeps {Max} peer links", peer.NodeId, MaxLinks);
                return false;
            }
            var link = new PeerLink(new PeerDialer(peer, _localNodeId, _partitionCount, _secret, _tls), _logger, ReportFailure);
            next[peer.NodeId] = link;
            Publish(next);
            if (_started) link.Start();
        }
        if (replaced is not null)
        {
            _logger.LogInformation("peer {Node} now dials {Address} (was {Old})", peer.NodeId, $"{peer.Host}:{peer.Port}", $"{replaced.Endpoint.Host}:{replaced.Endpoint.Port}");
            _ = Task.Run(async () => await replaced.DisposeAsync().ConfigureAwait(false));
        }
        return true;
    }

    /// <summary>Closes and forgets the link to <paramref name="node"/> (a member that left long ago); false if there was none.</summary>
    public bool RemovePeer(int node)
    {
        PeerLink? removed;
        lock (_writeLock)
        {
            if (_disposed || !_links.TryGetValue(node, out removed)) return false;
            var next = new Dictionary<int, PeerLink>(_links);
            next.Remove(node);
            Publish(next);
        }
        _ = Task.Run(async () => await removed.DisposeAsync().ConfigureAwait(false));
        return true;
    }

    /// <summary>At the bound, a link of a node the caller no longer needs (not in the ring) makes room.</summary>
    private bool EvictOne(Dictionary<int, PeerLink> links, Func<int, bool>? evictable)
    {
        if (evictable is null) return false;
        foreach ((int node, PeerLink link) in links)
        {
            if (!evictable(node)) continue;
            links.Remove(node);
            _ = Task.Run(async () => await link.DisposeAsync().ConfigureAwait(false));
            return true;
        }
        return false;
    }

    private void Publish(Dictionary<int, PeerLink> next)
    {
        _ordered = [.. next.Values.OrderBy(l => l.Endpoint.NodeId)];
        _links = next;
    }

    public void Send(int toNode, Message message)
    {
        if (!_links.TryGetValue(toNode, out PeerLink? link))
        {
            // A node whose address we never learnt (not in any ring we adopted): unreachable, as a down peer is.
            Interlocked.Increment(ref _unknownPeerSends);
            ReportFailure(toNode, message);
            return;
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
        PeerLink[] links;
        lock (_writeLock)
        {
            _disposed = true;
            links = _ordered;
        }
        foreach (PeerLink link in links) await link.DisposeAsync().ConfigureAwait(false);
    }
}

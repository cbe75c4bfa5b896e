using System.Collections.Concurrent;

namespace Meteora.Net.Transport;

/// <summary>Counts for the inbound peer port: connections, and frames and bytes received per peer.</summary>
public sealed class PeerInboundStats
{
    private readonly ConcurrentDictionary<int, PeerTraffic> _byPeer = new();
    private long _connectionsAccepted;
    private long _connectionsRejected;
    private long _framesReceived;
    private long _authenticationFailures;

    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);
    public long ConnectionsRejected => Interlocked.Read(ref _connectionsRejected);
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Peers that have sent at least one frame; at most one entry per ring member (the handshake admits only members).</summary>
    public ICollection<KeyValuePair<int, PeerTraffic>> ByPeer => _byPeer;

    /// <summary>Connections whose peer could not prove the cluster secret (also counted as rejected).</summary>
    public long AuthenticationFailures => Interlocked.Read(ref _authenticationFailures);

    public void Accepted() => Interlocked.Increment(ref _connectionsAccepted);
    public void Rejected() => Interlocked.Increment(ref _connectionsRejected);

    public void AuthenticationFailed()
    {
        Interlocked.Increment(ref _authenticationFailures);
        Rejected();
    }

    public void Received(int fromNode, long frameBytes)
    {
        Interlocked.Increment(ref _framesReceived);
        PeerTraffic traffic = _byPeer.GetOrAdd(fromNode, static _ => new PeerTraffic());
        Interlocked.Increment(ref traffic.Frames);
        Interlocked.Add(ref traffic.Bytes, frameBytes);
    }

    /// <summary>Frames and payload bytes from one peer, updated with Interlocked.</summary>
    public sealed class PeerTraffic
    {
        public long Frames;
        public long Bytes;
    }
}

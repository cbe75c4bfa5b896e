using System.Globalization;
using Meteora.Net.Transport;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// Peer links, labelled by peer node id (a ring has at most a few hundred members, so the label stays
/// small): outbound state, frames and bytes sent and dropped, reconnects; inbound frames and bytes
/// per peer and connections accepted or rejected. All copied from the transport's counters at scrape.
/// </summary>
public sealed class PeerMetrics
{
    private static readonly PeerLinkState[] States = Enum.GetValues<PeerLinkState>();

    private readonly PeerTransport _transport;
    private readonly Gauge _state;
    private readonly Gauge _queued;
    private readonly Counter _framesSent;
    private readonly Counter _bytesSent;
    private readonly Counter _framesDropped;
    private readonly Counter _bytesDropped;
    private readonly Counter _reconnects;
    private readonly Counter _framesReceived;
    private readonly Counter _bytesReceived;
    private readonly Counter _accepted;
    private readonly Counter _rejected;
    private readonly Counter _authenticationFailures;
    private readonly Counter _httpRefused;
    private readonly Counter _sendFailures;
    private PeerInboundStats? _inbound;
    private Http.HttpConnectionLimit? _httpLimit;

    public PeerMetrics(IMetricFactory factory, PeerTransport transport)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _state = factory.CreateGauge("meteora_peer_link_state", "Outbound link to a peer: 1 for its current state (connecting, up, down), 0 for the others.", ["peer", "state"]);
        _queued = factory.CreateGauge("meteora_peer_queued_frames", "Frames waiting in the outbound link's bounded queue.", ["peer"]);
        _framesSent = factory.CreateCounter("meteora_peer_sent_frames_total", "Frames written to a peer's connection.", ["peer"]);
        _bytesSent = factory.CreateCounter("meteora_peer_sent_bytes_total", "Bytes (length prefix included) written to a peer's connection.", ["peer"]);
        _framesDropped = factory.CreateCounter("meteora_peer_dropped_frames_total", "Frames to a peer dropped: link down, queue full, or queued when the connection broke.", ["peer"]);
        _bytesDropped = factory.CreateCounter("meteora_peer_dropped_bytes_total", "Bytes (length prefix included) of the frames to a peer that were dropped.", ["peer"]);
        _reconnects = factory.CreateCounter("meteora_peer_reconnects_total", "Connections to a peer established after the first one.", ["peer"]);
        _framesReceived = factory.CreateCounter("meteora_peer_received_frames_total", "Message frames received from a peer.", ["peer"]);
        _bytesReceived = factory.CreateCounter("meteora_peer_received_bytes_total", "Payload bytes of the message frames received from a peer.", ["peer"]);
        _accepted = factory.CreateCounter("meteora_peer_connections_accepted_total", "Inbound peer connections whose handshake was accepted.");
        _rejected = factory.CreateCounter("meteora_peer_connections_rejected_total", "Inbound peer connections closed for a bad handshake, bad frame or timeout.");
        _authenticationFailures = factory.CreateCounter("meteora_peer_authentication_failures_total", "Inbound peer connections whose peer did not prove the cluster secret (also counted as rejected).");
        _httpRefused = factory.CreateCounter("meteora_http_connections_refused_total", "HTTP connections answered 503 and closed because --max-http-connections were open.");
        _sendFailures = factory.CreateCounter("meteora_peer_send_failures_total", "Messages reported to the engine as not sent, so it fails a quorum at once instead of at its timeout.");
    }

    /// <summary>The inbound counters live with the peer port's handler, which the host creates after the runtime.</summary>
    public void AttachInbound(PeerInboundStats inbound, Http.HttpConnectionLimit httpLimit)
    {
        _inbound = inbound ?? throw new ArgumentNullException(nameof(inbound));
        _httpLimit = httpLimit ?? throw new ArgumentNullException(nameof(httpLimit));
    }

    public void Collect()
    {
        foreach (PeerLink link in _transport.Links)
        {
            string peer = link.Endpoint.NodeId.ToString(CultureInfo.InvariantCulture);
            PeerLinkState current = link.State;
            foreach (PeerLinkState state in States)
            {
                _state.WithLabels(peer, StateLabel(state)).Set(state == current ? 1 : 0);
            }
            _queued.WithLabels(peer).Set(link.QueuedFrames);
            _framesSent.WithLabels(peer).IncTo(link.SentFrames);
            _bytesSent.WithLabels(peer).IncTo(link.SentBytes);
            _framesDropped.WithLabels(peer).IncTo(link.DroppedFrames);
            _bytesDropped.WithLabels(peer).IncTo(link.DroppedBytes);
            _reconnects.WithLabels(peer).IncTo(Math.Max(0, link.Connects - 1));
        }
        _sendFailures.IncTo(_transport.SendFailuresReported);
        if (_httpLimit is { } limit) _httpRefused.IncTo(limit.Refused);
        if (_inbound is not { } inbound) return;
        _accepted.IncTo(inbound.ConnectionsAccepted);
        _rejected.IncTo(inbound.ConnectionsRejected);
        _authenticationFailures.IncTo(inbound.AuthenticationFailures);
        foreach ((int node, PeerInboundStats.PeerTraffic traffic) in inbound.ByPeer)
        {
            string peer = node.ToString(CultureInfo.InvariantCulture);
            _framesReceived.WithLabels(peer).IncTo(Interlocked.Read(ref traffic.Frames));
            _bytesReceived.WithLabels(peer).IncTo(Interlocked.Read(ref traffic.Bytes));
        }
    }

    private static string StateLabel(PeerLinkState state) => state.ToString().ToLowerInvariant();
}

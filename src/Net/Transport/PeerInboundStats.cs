namespace Meteora.Net.Transport;

/// <summary>Counters of the inbound peer port, for health and tests.</summary>
public sealed class PeerInboundStats
{
    private long _connectionsAccepted;
    private long _connectionsRejected;
    private long _framesReceived;
    private long _authenticationFailures;

    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);
    public long ConnectionsRejected => Interlocked.Read(ref _connectionsRejected);
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Connections whose peer could not prove the cluster secret (also counted as rejected).</summary>
    public long AuthenticationFailures => Interlocked.Read(ref _authenticationFailures);

    public void Accepted() => Interlocked.Increment(ref _connectionsAccepted);
    public void Rejected() => Interlocked.Increment(ref _connectionsRejected);
    public void Received() => Interlocked.Increment(ref _framesReceived);

    public void AuthenticationFailed()
    {
        Interlocked.Increment(ref _authenticationFailures);
        Rejected();
    }
}

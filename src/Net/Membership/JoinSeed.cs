using Meteora.Engine.Membership;
using Meteora.Net.Security;
using Meteora.Net.Transport;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Membership;

/// <summary>
/// Finds the member a joining node asks to be let in. <c>--join HOST:PORT</c> names an address, but the
/// engine addresses nodes by id: the join probe (<see cref="PeerDialer.ProbeAsync"/>) learns the id of the
/// node listening there, authenticated by the cluster secret, together with what its ring says of our id,
/// so a join that cannot succeed is refused here in one clear line. After a restart whose saved ring
/// already names this node, no probe is needed: the saved ring wins and any other member serves as seed.
/// </summary>
public static class JoinSeed
{
    /// <summary>How long a joining node keeps trying to reach its seed before giving up (exit 1).</summary>
    public const int ProbeTimeoutMs = 60_000;

    /// <summary>Pause between probe attempts while the seed is unreachable.</summary>
    public const int ProbeRetryMs = 500;

    /// <summary>The seed from a saved ring that names <paramref name="self"/>: the member at the --join address, else the claimant, else another member.</summary>
    public static PeerEndpoint? FromSavedRing(RingState saved, int self, string joinAddress)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (saved.MemberOf(self) is null) return null;
        Member[] others = [.. saved.Members.Where(m => m.NodeId != self)];
        Member? pick = Array.Find(others, m => m.PeerAddress == joinAddress)
            ?? Array.Find(others, m => m.NodeId == saved.Claimant)
            ?? others.FirstOrDefault();
        return pick is null ? null : Endpoint(pick);
    }

    private static PeerEndpoint? Endpoint(Member member)
    {
        try
        {
            return PeerEndpoint.ParseAddress(member.NodeId, member.PeerAddress);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Probes <paramref name="joinAddress"/> until it answers (bounded by <see cref="ProbeTimeoutMs"/>) and
    /// checks that this node may join there. Throws <see cref="JoinRefusedException"/> for a join that cannot
    /// succeed and <see cref="InvalidOperationException"/> when the seed never answered.
    /// </summary>
    public static PeerEndpoint Resolve(int self, int partitionCount, int replicationFactor, string ownAddress, string joinAddress,
        ClusterSecret secret, TlsSettings? tls, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        PeerEndpoint target = PeerEndpoint.ParseAddress(PeerHandshake.AnyNode, joinAddress);
        var dialer = new PeerDialer(target, self, partitionCount, secret, tls);
        using var deadline = new CancellationTokenSource(ProbeTimeoutMs);
        string? lastReason = null;
        while (true)
        {
            try
            {
                PeerProbe probe = dialer.ProbeAsync(deadline.Token).GetAwaiter().GetResult();
                Check(probe, self, partitionCount, replicationFactor, ownAddress, joinAddress);
                logger.LogInformation("join: {Address} is node {Seed} (ring version {Version}); asking it to let node {Node} in",
                    joinAddress, probe.ListenerId, probe.RingVersion, self);
                return new PeerEndpoint(probe.ListenerId, target.Host, target.Port);
            }
            catch (PeerAuthenticationException e)
            {
                throw new JoinRefusedException($"node {self} cannot join: the node at {joinAddress} does not share this node's cluster secret ({e.Message})");
            }
            catch (Exception e) when (e is not JoinRefusedException && !deadline.IsCancellationRequested)
            {
                if (lastReason is null) logger.LogInformation("join: waiting for {Address} to answer: {Reason}", joinAddress, e.Message);
                lastReason = e.Message;
            }
            catch (Exception e) when (e is not JoinRefusedException)
            {
                lastReason = e.Message;
            }
            if (deadline.IsCancellationRequested || deadline.Token.WaitHandle.WaitOne(ProbeRetryMs))
            {
                throw new InvalidOperationException($"no node answered a join probe at {joinAddress} within {ProbeTimeoutMs} ms (last: {lastReason})");
            }
        }
    }

    private static void Check(PeerProbe probe, int self, int partitionCount, int replicationFactor, string ownAddress, string joinAddress)
    {
        if (probe.PartitionCount != partitionCount || probe.ReplicationFactor != replicationFactor)
        {
            throw new JoinRefusedException(
                $"node {self} cannot join: the cluster at {joinAddress} has Q={probe.PartitionCount} N={probe.ReplicationFactor}, this node is configured with Q={partitionCount} N={replicationFactor}");
        }
        if (probe.DialerStatus is { } status && !(status == MemberStatus.Joining && probe.DialerAddress == ownAddress))
        {
            // A joining member at our own address is this node's earlier attempt (accepted, then restarted): it may go on.
            throw new JoinRefusedException(
                $"node {self} cannot join: node {self} is already a member of the ring ({status.ToString().ToLowerInvariant()}, at {probe.DialerAddress}); choose another --id, or remove node {self} first");
        }
        if (probe.ListenerId == self) throw new JoinRefusedException($"node {self} cannot join: the node at {joinAddress} has the same id, {self}");
    }
}

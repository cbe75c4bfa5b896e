using System.Diagnostics;
using Meteora.Engine.Protocol;
using Meteora.Tests.Net.Infrastructure;
using Meteora.Net.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meteora.Tests.Net.Transport;

/// <summary>The transport's peer set grows with the ring, and a node it cannot address is a failed send, not an exception.</summary>
public sealed class PeerTransportTests
{
    private sealed class Failures : ISendFailureSink
    {
        public List<(int Node, Message Message)> Seen { get; } = [];

        public void OnSendFailed(int toNode, Message message) => Seen.Add((toNode, message));
    }

    [Fact]
    public async Task ASendToAnUnknownNodeIsReportedAsFailed()
    {
        var failures = new Failures();
        await using var transport = new PeerTransport(0, 64, [new PeerEndpoint(1, "127.0.0.1", 1)], NullLoggerFactory.Instance, failures);
        var heartbeat = new Heartbeat(1);
        transport.Send(7, heartbeat);
        Assert.Equal((7, (Message)heartbeat), Assert.Single(failures.Seen));
        Assert.Equal(1, transport.UnknownPeerSends);
        Assert.Equal(1, transport.SendFailuresReported);
    }

    [Fact]
    public async Task RingAddressesAddAndReplaceLinksButAnnouncementsNeverReplace()
    {
        await using var transport = new PeerTransport(0, 64, [new PeerEndpoint(1, "127.0.0.1", 7001)], NullLoggerFactory.Instance);
        Assert.False(transport.AddPeer(new PeerEndpoint(0, "127.0.0.1", 7000)), "a node never links to itself");
        Assert.True(transport.AddPeer(new PeerEndpoint(3, "127.0.0.1", 7003)));
        Assert.Equal([1, 3], transport.Links.Select(l => l.Endpoint.NodeId));

        Assert.True(transport.AddPeerIfUnknown(new PeerEndpoint(1, "10.9.9.9", 9)));
        Assert.Equal(new PeerEndpoint(1, "127.0.0.1", 7001), transport.Links[0].Endpoint);
        Assert.True(transport.AddPeer(new PeerEndpoint(1, "127.0.0.2", 7001))); // the ring's address wins
        Assert.Equal(new PeerEndpoint(1, "127.0.0.2", 7001), transport.Links[0].Endpoint);
        Assert.True(transport.Knows(3));
        Assert.False(transport.Knows(4));
        Assert.True(transport.RemovePeer(3));
        Assert.False(transport.RemovePeer(3));
        Assert.Equal([1], transport.Links.Select(l => l.Endpoint.NodeId));
    }

    /// <summary>
    /// A peer that proves itself on an inbound connection is back: our link to it, waiting out its reconnect
    /// backoff (up to 2 s), dials at once. Before, a restarted node's requests timed out for 1-3 s because
    /// the replies came over its peers' links, still backing off (bench/hints.sh: 5 of 21 succeeded).
    /// </summary>
    [Fact]
    public async Task AnInboundConnectionFromAPeerCutsItsLinksBackoffShort()
    {
        int closedPort = FreePorts.Take(1)[0]; // nothing listens: every dial fails and the link backs off
        await using var transport = new PeerTransport(0, 64, [new PeerEndpoint(1, "127.0.0.1", closedPort)], NullLoggerFactory.Instance);
        transport.Start();
        PeerLink link = transport.Links[0];
        transport.PeerConnected(9); // a node without a link: nothing to nudge, no error
        var clock = Stopwatch.StartNew();
        while (link.RetriesNudged == 0 && clock.ElapsedMilliseconds < 20_000)
        {
            transport.PeerConnected(1); // a no-op unless the link is waiting out a backoff
            await Task.Delay(5);
        }
        Assert.True(link.RetriesNudged > 0, $"the link was never nudged out of its backoff (state {link.State})");
    }
}

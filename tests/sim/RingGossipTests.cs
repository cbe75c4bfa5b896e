using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;

namespace Meteora.Tests.Sim;

public sealed class RingGossipTests
{
    private static RingState Ring(int nodes, long version, int partitions = 64)
    {
        RingState initial = RingState.Initial(partitions, 3, Enumerable.Range(0, nodes).Select(i => (i, $"node-{i}")));
        return initial.With(version, initial.Claimant, initial.MembersCopy(), initial.Current, null, null, new());
    }

    private static void GossipRounds(ManualCluster cluster, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (ManualCluster.Host host in cluster.Hosts) host.FireTimers();
            while (cluster.Deliver() > 0)
            {
            }
        }
    }

    [Fact]
    public void The_newest_ring_spreads_to_every_node_by_push_pull()
    {
        var cluster = new ManualCluster(4, rings: id => id == 3 ? Ring(4, 7) : null);
        Assert.Equal([1, 1, 1, 7], cluster.Hosts.Select(h => h.Node.Ring!.Version));
        GossipRounds(cluster, 30);
        Assert.All(cluster.Hosts, h => Assert.Equal(7, h.Node.Ring!.Version));
        Assert.All(cluster.Hosts, h => Assert.Equal(0, h.Node.RingStatesRejected));
        foreach (ManualCluster.Host host in cluster.Hosts) host.Node.CheckInvariants(deep: true);
    }

    [Fact]
    public void A_corrupt_or_foreign_ring_state_is_refused_and_counted()
    {
        var cluster = new ManualCluster(3);
        cluster[1].OnMessage(0, new RingStateMessage([1, 2, 3]));
        // Newer and decodable, but another Q: not a ring this node can serve.
        cluster[1].OnMessage(0, new RingStateMessage(RingStateCodec.Encode(Ring(3, 9, partitions: 128))));
        Assert.Equal(2, cluster[1].RingStatesRejected);
        Assert.Equal(1, cluster[1].Ring!.Version);
        cluster[1].CheckInvariants(deep: true);
    }

    [Fact]
    public void A_node_refuses_to_start_with_a_ring_of_another_partition_count()
    {
        Assert.Throws<ArgumentException>(() => new ManualCluster(3, rings: id => id == 0 ? Ring(3, 2, partitions: 128) : null));
    }

    /// <summary>
    /// Regression (real-mode nemesis seed 1, session 9): the failure detector reads the clock, so on a real
    /// machine a peer can cross the phi threshold while the gossip timer picks a peer. The pick counted the
    /// trusted peers, then walked the members again, ran past the candidates and stopped the node. Here the
    /// clock moves 400 ms on every read, from a range of silences around the threshold (~3.7 s).
    /// </summary>
    [Fact]
    public void Picking_a_gossip_peer_survives_peers_turning_suspect_mid_pick()
    {
        for (long silenceMs = 0; silenceMs <= 6_000; silenceMs += 100)
        {
            var cluster = new ManualCluster(4);
            GossipRounds(cluster, 3); // heartbeats and gossip exchanged at one instant
            cluster.NowMicros += silenceMs * 1000;
            cluster.AdvancePerClockReadMicros = 400_000;
            ManualCluster.Host host = cluster.Hosts[0];
            var gossip = host.Timers.Where(t => t.Owner == Meteora.Engine.Runtime.TimerOwner.Gossip).ToList();
            Assert.NotEmpty(gossip);
            host.Timers.RemoveAll(t => t.Owner == Meteora.Engine.Runtime.TimerOwner.Gossip);
            foreach (var timer in gossip) host.Node.OnTimer(timer);
            host.Node.CheckInvariants(deep: true);
        }
    }
}

using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

/// <summary>The membership room driven by hand: claimant decisions, relaying, join refusals, and replicas that no longer serve a partition.</summary>
public sealed class MembershipRoomTests
{
    private static void Rounds(ManualCluster cluster, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (ManualCluster.Host host in cluster.Hosts.ToList()) host.FireTimers();
            cluster.Settle();
        }
    }

    [Fact]
    public void A_second_change_while_one_runs_is_refused_as_a_conflict_naming_the_running_one()
    {
        var cluster = new ManualCluster(5);
        long first = cluster[0].RequestRingChange(new RingChange(RingChangeKind.Leave, 4));
        Assert.True(cluster[0].RingChangeOutcome(first)!.Ok);
        long second = cluster[0].RequestRingChange(new RingChange(RingChangeKind.Leave, 3));
        RingChangeOutcome outcome = cluster[0].RingChangeOutcome(second)!;
        Assert.False(outcome.Ok);
        Assert.True(outcome.Conflict);
        Assert.Contains("leave of node 4", outcome.Error);
    }

    [Fact]
    public void A_request_to_a_member_is_relayed_to_the_claimant_and_answered()
    {
        var cluster = new ManualCluster(4);
        long ticket = cluster[2].RequestRingChange(new RingChange(RingChangeKind.Leave, 3));
        Assert.Null(cluster[2].RingChangeOutcome(ticket));
        cluster.Settle();
        RingChangeOutcome outcome = cluster[2].RingChangeOutcome(ticket)!;
        Assert.True(outcome.Ok, outcome.Error);
        Assert.Equal(new RingChange(RingChangeKind.Leave, 3), cluster[0].Ring!.Change);
        Assert.All(cluster.Hosts, h => Assert.Equal(cluster[0].Ring!.Version, h.Node.Ring!.Version)); // pushed to every member
    }

    [Fact]
    public void Leaving_below_N_and_removing_a_live_node_without_force_are_refused_with_reasons()
    {
        var cluster = new ManualCluster(3);
        RingChangeOutcome leave = cluster[0].RingChangeOutcome(cluster[0].RequestRingChange(new RingChange(RingChangeKind.Leave, 2)))!;
        Assert.False(leave.Ok);
        Assert.Contains("fewer than N=3", leave.Error);
        var bigger = new ManualCluster(4);
        RingChangeOutcome remove = bigger[0].RingChangeOutcome(bigger[0].RequestRingChange(new RingChange(RingChangeKind.Remove, 3)))!;
        Assert.False(remove.Ok);
        Assert.Contains("node 3 is up", remove.Error);
    }

    [Fact]
    public void A_joiner_is_admitted_through_its_seed_and_receives_the_ring()
    {
        var cluster = new ManualCluster(3);
        ManualCluster.Host joiner = cluster.AddJoiner(7, seed: 1);
        Assert.Null(joiner.Node.Ring);
        Rounds(cluster, 2);
        Assert.Equal(MemberStatus.Joining, joiner.Node.Ring!.MemberOf(7)!.Status);
        Assert.Equal(new RingChange(RingChangeKind.Join, 7), cluster[0].Ring!.Change);
        Assert.Null(joiner.Node.JoinRefused);
    }

    [Fact]
    public void A_join_with_an_id_already_in_the_ring_is_refused_and_the_reason_kept()
    {
        var cluster = new ManualCluster(3);
        // The impostor claims id 2, which node 2 (at address node-2) already has; it is not in the routing table.
        var impostor = new ManualCluster.Host(cluster, 2, joinSeed: 0, peerAddress: "10.9.9.9:7000");
        Rounds2(cluster, impostor);
        Assert.Contains("node 2 is already a member", impostor.Node.JoinRefused);
        Assert.Null(impostor.Node.Ring); // gossip showed it a ring with "its" id at another address: not taken
        Assert.Null(cluster[0].Ring!.Change);
    }

    [Fact]
    public void A_join_with_another_partition_count_is_refused_naming_both()
    {
        var cluster = new ManualCluster(3, partitions: 64);
        ManualCluster.Host joiner = cluster.AddJoiner(5, seed: 0, partitions: 128);
        Rounds(cluster, 2);
        Assert.Contains("Q=128", joiner.Node.JoinRefused);
        Assert.Contains("Q=64", joiner.Node.JoinRefused);
        Assert.Null(cluster[0].Ring!.Change);
    }

    [Fact]
    public void A_replica_outside_a_partitions_preference_list_refuses_reads_and_nacks_writes()
    {
        var cluster = new ManualCluster(4);
        var (replicas, key) = cluster.KeyWithReplicas(r => !r.Contains(3));
        cluster[3].OnMessage(0, new ReplicaRead(11, key));
        cluster[3].OnMessage(0, new ReplicaWrite(12, key, new WriteVersion(1, 0), [1]));
        cluster.FlushDisks();
        Assert.Contains(cluster.InFlight, m => m.To == 0 && m.Message is ReplicaRefused { RequestId: 11 });
        Assert.Contains(cluster.InFlight, m => m.To == 0 && m.Message is ReplicaWriteAck { RequestId: 12, Ok: false });
        Assert.Equal(1, cluster[3].WritesNotServed);
        Assert.Equal(0, cluster.HostOf(3).Storage.VisibleCount);
    }

    /// <summary>Drives a host that is not in the cluster's routing table: its messages go out, answers addressed to its id come back to it.</summary>
    private static void Rounds2(ManualCluster cluster, ManualCluster.Host outsider)
    {
        for (int round = 0; round < 3; round++)
        {
            outsider.FireTimers();
            for (int i = 0; i < 10; i++)
            {
                var toOutsider = cluster.InFlight.Where(m => m.To == outsider.Node.NodeId && m.From == 0).ToList();
                foreach (var m in toOutsider)
                {
                    cluster.InFlight.Remove(m);
                    outsider.Node.OnMessage(m.From, MessageCodec.Decode(MessageCodec.Encode(m.Message)));
                }
                cluster.Deliver(m => m.To != outsider.Node.NodeId || m.From != 0);
            }
        }
    }
}

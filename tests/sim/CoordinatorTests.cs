using System.Text;
using Meteora.Engine;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

public sealed class CoordinatorTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(-1)]
    public void Read_consistency_outside_1_to_N_is_an_invalid_request(int r)
    {
        var cluster = new ManualCluster(3);
        cluster[0].OnClientRequest(ClientRequest.Get(1, "k", r));
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.InvalidRequest, result.Status);
        Assert.Equal($"readConsistency must be in 1..3, got {r}", result.Error);
        Assert.Empty(cluster.InFlight);
    }

    [Fact]
    public void Oversized_or_empty_input_is_rejected_and_nothing_is_written()
    {
        var cluster = new ManualCluster(3);
        cluster[0].OnClientRequest(ClientRequest.Set(1, new string('k', Limits.MaxKeySizeBytes + 1), B("v")));
        cluster[0].OnClientRequest(ClientRequest.Set(2, "k", new byte[Limits.MaxValueSizeBytes + 1]));
        cluster[0].OnClientRequest(ClientRequest.Set(3, "", B("v")));
        cluster[0].OnClientRequest(ClientRequest.Delete(4, "k", 9));
        var results = cluster.Hosts[0].Results;
        Assert.All(results, r => Assert.Equal(ClientStatus.InvalidRequest, r.Status));
        Assert.Contains("limit is 1024", results[0].Error);
        Assert.Contains("limit is 1048576", results[1].Error);
        Assert.Equal("key must not be empty", results[2].Error);
        Assert.Equal("writeConsistency must be in 1..3, got 9", results[3].Error);
        Assert.Empty(cluster.InFlight);
        Assert.All(cluster.Hosts, h => Assert.Equal(0, h.Storage.VisibleCount));
    }

    [Fact]
    public void A_write_is_acknowledged_only_after_W_replicas_made_it_durable()
    {
        var cluster = new ManualCluster(3);
        cluster[0].OnClientRequest(ClientRequest.Set(1, "k", B("v"), 3));
        cluster.Deliver(); // writes reach replicas, nothing durable yet
        Assert.DoesNotContain(cluster.InFlight, m => m.Message is ReplicaWriteAck);
        Assert.Empty(cluster.Hosts[0].Results);
        cluster.FlushDisks();
        cluster.Deliver();
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Ok, result.Status);
        Assert.Equal(3, result.Acks);
    }

    [Fact]
    public void Unreachable_replicas_make_the_write_fail_at_timeout_saying_how_many_answered()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        cluster[0].OnClientRequest(ClientRequest.Set(1, key, B("v"), 2));
        cluster.Drop(_ => true);
        cluster.FlushDisks();
        Assert.Empty(cluster.Hosts[0].Results);
        cluster.Hosts[0].FireTimers();
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Unavailable, result.Status);
        Assert.Equal(1, result.Acks);
        Assert.Equal(2, result.Required);
        Assert.Contains("1 of 2 required replicas answered", result.Error);
        Assert.Equal(0, cluster[0].PendingRequestCount);
    }

    [Fact]
    public void Duplicate_acks_from_one_replica_are_counted_once()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        cluster[0].OnClientRequest(ClientRequest.Set(1, key, B("v"), 3));
        cluster.Deliver();
        cluster.FlushDisks();
        var ack = cluster.InFlight.First(m => m.Message is ReplicaWriteAck);
        cluster.InFlight.Clear();
        cluster.InFlight.Add(ack);
        cluster.InFlight.Add(ack);
        cluster.Deliver();
        Assert.Empty(cluster.Hosts[0].Results); // 1 local + 1 remote (duplicated) < 3
    }

    [Fact]
    public void Read_repair_fixes_stale_replicas_including_ones_that_answer_after_the_client_got_its_reply()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(64);
        var newest = new StoredValue(new WriteVersion(500, 2), B("fresh"));
        cluster.Hosts[replicas[1]].Storage.Write(partition, key, newest, 1);
        cluster.Hosts[replicas[1]].Storage.CompleteOldest(true);

        // R=1: node 0 is a replica and answers itself at once, with nothing.
        cluster[0].OnClientRequest(ClientRequest.Get(7, key, 1));
        ClientResult early = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.NotFound, early.Status);

        // The other replies arrive after the client's answer; the coordinator still repairs.
        cluster.Deliver(m => m.Message is ReplicaRead);
        cluster.Deliver(m => m.Message is ReplicaReadReply);
        var repairs = cluster.InFlight.Where(m => m.Message is ReadRepair).ToList();
        Assert.Single(repairs);
        Assert.Equal(replicas[2], repairs[0].To);
        cluster.Settle();
        foreach (int replica in replicas)
        {
            Assert.True(cluster.Hosts[replica].Storage.TryGet(partition, key, out StoredValue held));
            Assert.Equal(newest, held);
        }
    }

    [Fact]
    public void Quorum_read_returns_the_newest_of_R_replies_and_tombstones_read_as_not_found()
    {
        var cluster = new ManualCluster(3);
        cluster[1].OnClientRequest(ClientRequest.Set(1, "x", B("one"), 3));
        cluster.Settle();
        cluster.NowMicros += 10;
        cluster[2].OnClientRequest(ClientRequest.Delete(2, "x", 2));
        cluster.Settle();
        cluster[0].OnClientRequest(ClientRequest.Get(3, "x", 3));
        cluster.Settle();
        ClientResult read = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.NotFound, read.Status);
        Assert.Equal(cluster.Hosts[2].Results[0].Version, read.Version);
        Assert.True(read.Version > cluster.Hosts[1].Results[0].Version);
    }

    /// <summary>Regression (simulator seed 16, --nodes 5 --faults all): the newer write's disk op failed after a stale write arrived.</summary>
    [Fact]
    public void A_stale_write_is_not_acked_when_the_newer_value_covering_it_fails_to_persist()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(64);
        var replica = cluster.Hosts[replicas[1]];
        var stale = new WriteVersion(5, 0);
        replica.Node.OnMessage(0, new ReadRepair(key, new WriteVersion(9, 0), B("newer")));
        replica.Node.OnMessage(0, new ReplicaWrite(42, key, stale, B("older")));
        // The newer value's own write fails and is rolled back.
        long failed = replica.Storage.CompleteOldest(durable: false);
        replica.Node.OnStorageCompleted(failed, false);
        Assert.Empty(cluster.InFlight);
        replica.FlushDisk();
        var ack = Assert.Single(cluster.InFlight);
        Assert.Equal(new ReplicaWriteAck(42, true), ack.Message);
        Assert.True(replica.Storage.TryGetDurable(key, out StoredValue durable));
        Assert.True(durable.Version >= stale, $"acked v={stale} but the disk holds v={durable.Version}");
    }

    [Fact]
    public void A_stale_write_is_acked_only_after_the_newer_value_covering_it_is_durable()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(64);
        int replica = replicas[1];
        // The replica holds a newer, not yet durable version.
        cluster[replica].OnMessage(0, new ReadRepair(key, new WriteVersion(long.MaxValue / 2, 0), B("newer")));
        cluster[replica].OnMessage(0, new ReplicaWrite(42, key, new WriteVersion(5, 0), B("older")));
        Assert.Empty(cluster.InFlight);
        cluster.Hosts[replica].FlushDisk();
        var ack = Assert.Single(cluster.InFlight);
        Assert.Equal(new ReplicaWriteAck(42, true), ack.Message);
        Assert.True(cluster.Hosts[replica].Storage.TryGet(partition, key, out StoredValue held));
        Assert.Equal(B("newer"), held.Value);
    }

    [Fact]
    public void An_unreachable_replica_fails_a_write_at_once_when_W_can_no_longer_be_met()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        cluster[0].OnClientRequest(ClientRequest.Set(1, key, B("v"), 3));
        var unsent = cluster.InFlight.First(m => m.To == replicas[1]);
        cluster.InFlight.Remove(unsent);
        cluster[0].OnSendFailed(unsent.To, unsent.Message);
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Unavailable, result.Status);
        Assert.Contains("unreachable", result.Error);
        Assert.Equal(3, result.Required);
    }

    [Fact]
    public void A_read_with_one_unreachable_replica_still_succeeds_at_R2_and_never_repairs_the_unreachable_one()
    {
        var cluster = new ManualCluster(3);
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        cluster[0].OnClientRequest(ClientRequest.Set(1, key, B("v"), 3));
        cluster.Settle();
        cluster[0].OnClientRequest(ClientRequest.Get(2, key, 2));
        var unsent = cluster.InFlight.First(m => m.To == replicas[2]);
        cluster.InFlight.Remove(unsent);
        cluster[0].OnSendFailed(unsent.To, unsent.Message);
        cluster.Settle();
        Assert.Equal(2, cluster.Hosts[0].Results.Count);
        ClientResult read = cluster.Hosts[0].Results.Last();
        Assert.Equal(ClientStatus.Ok, read.Status);
        Assert.Equal(2, read.Acks);
        Assert.DoesNotContain(cluster.InFlight, m => m.To == replicas[2]);
        Assert.Equal(0, cluster[0].PendingRequestCount);

        cluster[0].OnClientRequest(ClientRequest.Get(3, key, 3));
        var unreachable = cluster.InFlight.First(m => m.To == replicas[2]);
        cluster.InFlight.Remove(unreachable);
        cluster[0].OnSendFailed(unreachable.To, unreachable.Message);
        ClientResult failed = cluster.Hosts[0].Results.Last();
        Assert.Equal(ClientStatus.Unavailable, failed.Status);
    }
}

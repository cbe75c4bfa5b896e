using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

/// <summary>Anti-entropy between two real engine nodes, driven step by step.</summary>
public sealed class RepairExchangeTests
{
    /// <summary>Per key: its version on node 0 and on node 1 (0 = absent; negative = a tombstone).</summary>
    public static Arbitrary<(int A, int B)[]> KeyStates() =>
        Gen.ArrayOf(
            from a in Gen.Frequency((2, Gen.Constant(0)), (6, Gen.Choose(1, 5)), (1, Gen.Choose(-5, -1)))
            from b in Gen.Frequency((2, Gen.Constant(0)), (6, Gen.Choose(1, 5)), (1, Gen.Choose(-5, -1)))
            select (a, b)).ToArbitrary();

    private static void Put(ManualCluster cluster, int node, string key, int state)
    {
        if (state == 0) return;
        // Distinct writes have distinct versions: a tombstone never shares its version with a value.
        var version = new WriteVersion(Math.Abs(state), state > 0 ? 7u : 9u);
        byte[]? value = state > 0 ? Encoding.UTF8.GetBytes($"{key}@{state}") : null;
        cluster[node].OnMessage(1 - node, new ReadRepair(key, version, value));
    }

    private static Dictionary<string, StoredValue> Contents(ManualCluster cluster, int node) =>
        cluster.Hosts[node].Storage.VisibleEntries.ToDictionary(e => e.Key, e => e.Value);

    private static RepairStatus RunRepair(ManualCluster cluster, int node)
    {
        var (started, id) = cluster[node].StartRepair();
        Assert.True(started);
        cluster.Settle();
        RepairStatus status = cluster[node].RepairStatus(id)!;
        Assert.Equal("done", status.State);
        return status;
    }

    [Property(Arbitrary = [typeof(RepairExchangeTests)], MaxTest = 60)]
    public void One_repair_makes_both_replicas_equal_moving_exactly_the_differing_keys((int A, int B)[] states, bool buildFirst)
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8, new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = 3 });
        if (buildFirst) cluster.BuildTrees(); // else the writes land during the sliced rebuild
        int differing = 0;
        for (int i = 0; i < states.Length; i++)
        {
            Put(cluster, 0, "key" + i, states[i].A);
            Put(cluster, 1, "key" + i, states[i].B);
            if (states[i].A != states[i].B) differing++;
        }
        cluster.Settle();
        cluster.BuildTrees();

        RepairStatus status = RunRepair(cluster, 0);
        Assert.Equal(differing, status.KeysRepaired);
        Assert.Equal(8, status.PartitionsTotal);
        Assert.Equal(8, status.PartitionsDone);
        var left = Contents(cluster, 0);
        var right = Contents(cluster, 1);
        Assert.Equal(left.Count, right.Count);
        foreach (var (key, value) in left) Assert.Equal(value, right[key]);
        for (int p = 0; p < 8; p++) Assert.Equal(cluster[0].MerkleRoot(p), cluster[1].MerkleRoot(p));
    }

    [Fact]
    public void Equal_replicas_exchange_only_their_roots()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8, new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = 10 });
        cluster.BuildTrees();
        for (int i = 0; i < 500; i++)
        {
            Put(cluster, 0, "key" + i, 3);
            Put(cluster, 1, "key" + i, 3);
        }
        cluster.Settle();
        RepairStatus status = RunRepair(cluster, 0);
        Assert.Equal(0, status.KeysRepaired);
        int rootRequestBytes = MessageCodec.EncodedSize(new MerkleHashesRequest(1, 0, 10, [1]));
        Assert.Equal(8 * rootRequestBytes, status.BytesSent);
    }

    [Fact]
    public void Traffic_grows_with_differences_not_with_keys()
    {
        long BytesFor(int keys, int differences)
        {
            var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8, new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = 10 });
            cluster.BuildTrees();
            for (int i = 0; i < keys; i++)
            {
                Put(cluster, 0, "key" + i, 3);
                Put(cluster, 1, "key" + i, i < differences ? 4 : 3);
            }
            cluster.Settle();
            RepairStatus status = RunRepair(cluster, 0);
            Assert.Equal(differences, status.KeysRepaired);
            return status.BytesSent;
        }
        long small = BytesFor(1_000, 5);
        long large = BytesFor(10_000, 5);
        Assert.True(large < small * 2, $"10x the keys should not double the traffic: {small} vs {large} bytes");
    }

    [Fact]
    public void A_second_job_is_refused_while_one_runs_naming_it()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8);
        cluster.BuildTrees();
        var (started, id) = cluster[0].StartRepair();
        Assert.True(started);
        var (again, runningId) = cluster[0].StartRepair();
        Assert.False(again);
        Assert.Equal(id, runningId);
        Assert.Equal("running", cluster[0].RepairStatus(id)!.State);
        cluster.Settle();
        Assert.Equal("done", cluster[0].RepairStatus(id)!.State);
        Assert.Null(cluster[0].RepairStatus("r-unknown"));
    }

    [Fact]
    public void An_unreachable_peer_fails_the_session_after_its_retries()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 2, new RepairOptions { AntiEntropyIntervalMs = 0, MaxAttempts = 2 });
        cluster.BuildTrees();
        var (_, id) = cluster[0].StartRepair();
        for (int round = 0; round < 10; round++)
        {
            cluster.Drop(_ => true);
            cluster.Hosts[0].FireTimers();
        }
        RepairStatus status = cluster[0].RepairStatus(id)!;
        Assert.Equal("failed", status.State);
        Assert.Equal(2, status.SessionsFailed);
        Assert.NotNull(status.FinishedAtMicros);
    }

    /// <summary>Regression (simulator seed 459): a failed purge after a repair re-wrote the same tombstone must leave the tree equal to storage.</summary>
    [Fact]
    public void Merkle_tree_follows_storage_through_failed_writes_and_purges()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8, new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = 3 });
        cluster.BuildTrees();
        var host = cluster.Hosts[0];
        var tombstone = new WriteVersion(50, 1);
        host.Node.OnMessage(1, new ReadRepair("k", tombstone, null));
        host.FlushDisk();
        int partition = Meteora.Engine.Hashing.Token.OfKey("k").Partition(8);
        UInt128? withTombstone = host.Node.MerkleRoot(partition);

        // Purge it by hand through the storage the node owns, as anti-entropy would, then let a
        // repair re-write the same tombstone before the purge's disk op fails.
        Assert.True(host.Node.Store.TryPurge(partition, "k", tombstone));
        host.Node.OnMessage(1, new ReadRepair("k", tombstone, null));
        long purgeToken = host.Storage.CompleteOldest(durable: false);
        host.Node.OnStorageCompleted(purgeToken, false);
        host.FlushDisk();

        Assert.True(host.Storage.TryGet(partition, "k", out StoredValue held));
        Assert.Equal(tombstone, held.Version);
        Assert.Equal(withTombstone, host.Node.MerkleRoot(partition));
    }

    [Fact]
    public void A_peer_still_rebuilding_its_trees_is_asked_again_at_the_timeout_not_at_once()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 2, new RepairOptions { AntiEntropyIntervalMs = 0, MaxAttempts = 2 });
        cluster.Hosts[0].FireTimers(); // only node 0 builds its trees; node 1 is still rebuilding
        while (cluster[0].MerkleRoot(0) is null || cluster[0].MerkleRoot(1) is null) cluster.Hosts[0].FireTimers();
        var (_, id) = cluster[0].StartRepair();
        for (int i = 0; i < 5; i++) cluster.Deliver(); // requests and "not ready" replies, no timers
        Assert.Equal("running", cluster[0].RepairStatus(id)!.State);

        // Node 1 finishes rebuilding; node 0's requests then time out once and are retried.
        while (cluster[1].MerkleRoot(0) is null || cluster[1].MerkleRoot(1) is null) cluster.Hosts[1].FireTimers();
        cluster.Hosts[0].FireTimers();
        cluster.Settle();
        Assert.Equal("done", cluster[0].RepairStatus(id)!.State);
    }
}

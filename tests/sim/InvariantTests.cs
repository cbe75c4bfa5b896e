using System.Text;
using System.Text.Json;
using Meteora.Engine;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

/// <summary>The engine's invariant checks catch broken state, and the simulator runs them.</summary>
public sealed class InvariantTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void The_deep_check_catches_a_Merkle_tree_that_no_longer_matches_storage()
    {
        var cluster = new ManualCluster(1, replicationFactor: 1, partitions: 8);
        cluster.BuildTrees();
        var host = cluster.Hosts[0];
        for (int i = 0; i < 50; i++) host.Node.OnClientRequest(ClientRequest.Set(i, "key" + i, B("v"), 1));
        host.FlushDisk();
        for (int i = 0; i < 8; i++) host.Node.CheckInvariants(deep: true); // every partition audited once: all equal

        // A write that reaches the disk behind the engine's back (as a bug in the replica room would).
        int partition = Meteora.Engine.Hashing.Token.OfKey("intruder").Partition(8);
        host.Storage.Write(partition, "intruder", new StoredValue(new WriteVersion(1, 0), B("x")), completionToken: -1);
        host.Storage.CompleteOldest(durable: true);
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            for (int i = 0; i < 8; i++) host.Node.CheckInvariants(deep: true);
        });
        Assert.Contains($"Merkle tree of partition {partition}", error.Message);
    }

    [Fact]
    public void A_replica_with_too_many_disk_operations_in_flight_nacks_acked_writes()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8);
        var replica = cluster.Hosts[1];
        for (int i = 0; i < Limits.MaxInFlightStorageOps; i++)
        {
            replica.Node.OnMessage(0, new ReadRepair("k" + i, new WriteVersion(1, 0), null));
        }
        Assert.Equal(Limits.MaxInFlightStorageOps, replica.Node.InFlightStorageOps);
        replica.Node.OnMessage(0, new ReplicaWrite(7, "one-more", new WriteVersion(2, 0), B("v")));
        var nack = Assert.Single(cluster.InFlight);
        Assert.Equal(new ReplicaWriteAck(7, false), nack.Message);
        Assert.Equal(1, replica.Node.WritesRefused);
        Assert.False(replica.Storage.TryGet(0, "one-more", out _));
        replica.FlushDisk();
        Assert.Equal(0, replica.Node.InFlightStorageOps);
        replica.Node.CheckInvariants(deep: true);
    }

    /// <summary>
    /// The per-event check keeps its costly parts out of line (issue 11: their locals made every call
    /// zero a large frame); corrupted state must still be caught there, on the deep check only.
    /// </summary>
    [Fact]
    public void Deep_only_parts_still_catch_miscounted_disk_ops_and_a_detector_tracking_itself()
    {
        var cluster = new ManualCluster(2, replicationFactor: 2, partitions: 8);
        var host = cluster.Hosts[0];
        host.Node.OnClientRequest(ClientRequest.Set(1, "k", B("v"), 1)); // its disk write stays in flight
        Assert.Equal(1, host.Node.InFlightStorageOps);
        host.Node.CheckInvariants(deep: true);

        object inFlight = Field(host.Node.Store, "_inFlight");
        var byPartition = (Dictionary<int, int>)Field(inFlight, "_byPartition");
        int partition = byPartition.Keys.Single();
        byPartition[partition] += 1;
        host.Node.CheckInvariants(deep: false); // the recount is deep-only
        var miscounted = Assert.Throws<InvalidOperationException>(() => host.Node.CheckInvariants(deep: true));
        Assert.Equal($"partition {partition}: 1 ops in flight, 2 tracked", miscounted.Message);
        byPartition[partition] -= 1;
        host.Node.CheckInvariants(deep: true);

        object detector = Field(host.Node, "_detector");
        var peers = (System.Collections.IDictionary)Field(detector, "_peers");
        object peer = peers[1]!;
        peers.Add(0, peer);
        host.Node.CheckInvariants(deep: false);
        var self = Assert.Throws<InvalidOperationException>(() => host.Node.CheckInvariants(deep: true));
        Assert.Equal("node 0 tracks itself as a peer", self.Message);
    }

    private static object Field(object owner, string name) =>
        owner.GetType().GetField(name, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(owner)
        ?? throw new InvalidOperationException($"{owner.GetType().Name}.{name} is null");

    [Fact]
    public void A_simulated_run_checks_invariants_after_every_event_and_reports_the_count()
    {
        var (exit, stdout, _) = SimProcess.Run(["run", "--seed", "7", "--nodes", "3", "--ops", "300", "--faults", "all", "--json"]);
        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        long events = json.RootElement.GetProperty("events").GetInt64();
        long checks = json.RootElement.GetProperty("invariantChecks").GetInt64();
        // One check per event a live node handled (client invocations and fault events are not node events).
        Assert.True(checks > events / 2 && checks <= events + 300 * 2, $"{checks} checks for {events} events");
        Assert.True(json.RootElement.TryGetProperty("knobs", out JsonElement knobs));
        Assert.InRange(knobs.GetProperty("merkleDepth").GetInt32(), 0, 4);
    }
}

using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// A write acknowledged only by replicas later removed with their disks has no surviving copy: its loss
/// is expected, not a durability violation. The ack oracle appends acks in order and groups them by
/// written version only when a check asks (issue 11); these drive it directly, as the simulated
/// network would, and check the grouping, including acks that arrive after a first question.
/// </summary>
public sealed class AckOracleLossTests
{
    private static readonly WriteVersion First = new(1_000, 0);
    private static readonly WriteVersion Second = new(2_000, 0);
    private static readonly WriteVersion Third = new(3_000, 0);

    private static void WriteAndAck(SimCluster cluster, long requestId, string key, WriteVersion version, params int[] replicas)
    {
        foreach (int replica in replicas)
        {
            cluster.AckOracle.OnSend(0, replica, new ReplicaWrite(requestId, key, version, [1]));
            cluster.AckOracle.OnSend(replica, 0, new ReplicaWriteAck(requestId, Ok: true));
        }
    }

    [Fact]
    public void A_version_is_lost_only_when_every_replica_that_acked_it_was_removed()
    {
        var cluster = new SimCluster(1, new SimOptions { Nodes = 4, Operations = 10 });
        WriteAndAck(cluster, 1, "a", First, 1);
        WriteAndAck(cluster, 2, "b", Second, 1, 2);
        // Nothing removed yet: nothing is lost, whoever acked.
        Assert.False(cluster.AckOracle.AckedOnlyByLostCopies("a", First));

        cluster.RemovedNodes.Add(1);
        Assert.True(cluster.AckOracle.AckedOnlyByLostCopies("a", First));
        Assert.False(cluster.AckOracle.AckedOnlyByLostCopies("b", Second)); // node 2 still holds it
        Assert.False(cluster.AckOracle.AckedOnlyByLostCopies("a", Second)); // never written: not an acked loss
        Assert.False(cluster.AckOracle.AckedOnlyByLostCopies("b", First));  // same version, other key

        // Acks after a first question are grouped too (repair pushes keep coming after the first check).
        WriteAndAck(cluster, 3, "c", Third, 1);
        WriteAndAck(cluster, 4, "a", First, 3); // a later copy of the same version on node 3
        Assert.True(cluster.AckOracle.AckedOnlyByLostCopies("c", Third));
        Assert.False(cluster.AckOracle.AckedOnlyByLostCopies("a", First));
    }
}

using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// The engine's counters (exported by real nodes as Prometheus metrics) against what the simulated
/// history independently shows. Partitions only: a crash replaces a node's engine and its counters.
/// </summary>
public sealed class NodeCountersTests
{
    [Fact]
    public void Quorum_timeouts_read_repairs_and_repair_rounds_match_the_run()
    {
        var options = new SimOptions { Nodes = 5, Operations = 1000, Faults = FaultKinds.Partition };
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var cluster = new SimCluster(seed, options);
            Assert.True(cluster.Run().Ok);
            long timeouts = 0, readRepairs = 0, rounds = 0, jobsFinished = 0, jobsStarted = 0, writeAcks = 0;
            foreach (SimNode node in cluster.Nodes)
            {
                NodeCounters c = node.Engine.Counters;
                timeouts += c.QuorumTimeouts;
                readRepairs += c.ReadRepairsSent;
                rounds += c.AntiEntropyRounds;
                jobsStarted += c.RepairJobsStarted;
                jobsFinished += c.RepairJobsDone + c.RepairJobsFailed;
                writeAcks += c.ReplicaWriteAcks;
            }
            int timedOut = 0, ackedWrites = 0;
            foreach (OpRecord op in cluster.History.Operations)
            {
                if (op.Status == ClientStatus.Unavailable && op.Error!.StartsWith("timed out", StringComparison.Ordinal)) timedOut++;
                if (op.Acknowledged) ackedWrites++;
            }
            Assert.Equal(timedOut, timeouts);
            Assert.True(writeAcks >= ackedWrites, $"seed {seed}: {writeAcks} replica acks for {ackedWrites} acknowledged writes");
            Assert.True(rounds > 0 && jobsStarted == rounds, $"seed {seed}: only background rounds run here ({rounds} rounds, {jobsStarted} jobs)");
            Assert.InRange(jobsStarted - jobsFinished, 0, cluster.Nodes.Length);
            if (timedOut > 0 && readRepairs > 0) return; // a seed that exercised both
        }
        Assert.Fail("no seed in 1..20 had both a quorum timeout and a read repair");
    }
}

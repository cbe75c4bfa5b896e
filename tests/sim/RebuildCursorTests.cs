using System.Text;
using Meteora.Engine.Merkle;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Sim;

/// <summary>
/// Writes that land while a partition's Merkle tree is being rebuilt in slices: a write to a key the
/// scan has passed must update the tree, a write to a key not reached yet must be left to the scan.
/// "Passed" is in the scan's order (storage order: token, then key bytes), not in key order.
/// </summary>
public sealed class RebuildCursorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    public void Writes_during_a_sliced_rebuild_leave_the_tree_equal_to_the_stored_entries(int sliceEntries)
    {
        var cluster = new ManualCluster(1, replicationFactor: 1, partitions: 1, new RepairOptions { AntiEntropyIntervalMs = 0, MerkleDepth = 4, SliceEntries = sliceEntries });
        var random = new Random(sliceEntries);
        long timestamp = 0;
        void Write(string key)
        {
            var version = new WriteVersion(++timestamp, 7);
            byte[]? value = random.Next(5) == 0 ? null : Encoding.UTF8.GetBytes($"{key}@{timestamp}");
            cluster[0].OnMessage(1, new ReadRepair(key, version, value));
        }

        for (int i = 0; i < 60; i++) Write("key" + i);
        cluster.Settle();
        for (int round = 0; cluster[0].MerkleRoot(0) is null; round++)
        {
            Assert.True(round < 10_000, "the rebuild does not finish");
            cluster.Hosts[0].FireTimers(); // one slice
            for (int w = 0; w < 4; w++) Write("key" + random.Next(90)); // overwrites and new keys, before and after the cursor
            cluster.Settle();
        }

        var expected = new MerkleTree(4, 1);
        foreach (var (key, value) in cluster.Hosts[0].Storage.VisibleEntries) expected.Add(key, value.Version);
        Assert.Equal(expected.Root, cluster[0].MerkleRoot(0));
    }
}

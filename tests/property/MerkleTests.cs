using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Hashing;
using Meteora.Engine.Merkle;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

public sealed class MerkleTests
{
    /// <summary>A script of writes: (key index, timestamp); a timestamp of 0 deletes the entry from the tree.</summary>
    public static Arbitrary<(int Key, int Ts)[]> Scripts() =>
        Gen.ArrayOf(from k in Gen.Choose(0, 60) from ts in Gen.Frequency((1, Gen.Constant(0)), (5, Gen.Choose(1, 1000))) select (k, ts))
            .ToArbitrary();

    private static void AssertSameTree(MerkleTree a, MerkleTree b)
    {
        Assert.Equal(a.Root, b.Root);
        for (int node = 1; node < 2 * a.LeafCount; node++) Assert.Equal(a.NodeHash(node), b.NodeHash(node));
    }

    [Property(Arbitrary = [typeof(MerkleTests)], MaxTest = 200)]
    public void Incremental_tree_equals_one_rebuilt_from_scratch((int Key, int Ts)[] script, byte depthSeed)
    {
        int depth = depthSeed % 8;
        var incremental = new MerkleTree(depth, 64);
        var current = new Dictionary<string, WriteVersion>();
        foreach (var (k, ts) in script)
        {
            string key = "key" + k;
            WriteVersion? before = current.TryGetValue(key, out var v) ? v : null;
            WriteVersion? after = ts == 0 ? null : new WriteVersion(ts, (uint)(k % 3));
            incremental.Replace(key, before, after);
            if (after is { } a) current[key] = a; else current.Remove(key);
        }
        var rebuilt = new MerkleTree(depth, 64);
        foreach (var (key, version) in current.OrderBy(e => e.Key, StringComparer.Ordinal).Reverse()) rebuilt.Add(key, version);
        AssertSameTree(incremental, rebuilt);
        Assert.Equal(current.Count, incremental.EntryCount);
    }

    [Fact]
    public void Empty_trees_are_all_zero_and_one_entry_changes_the_root()
    {
        var tree = new MerkleTree(6, 64);
        Assert.Equal(UInt128.Zero, tree.Root);
        tree.Add("a", new WriteVersion(1, 1));
        Assert.NotEqual(UInt128.Zero, tree.Root);
        tree.Remove("a", new WriteVersion(1, 1));
        Assert.Equal(UInt128.Zero, tree.Root);
    }

    [Fact]
    public void A_different_version_of_the_same_key_gives_a_different_root()
    {
        var a = new MerkleTree(6, 64);
        var b = new MerkleTree(6, 64);
        a.Add("k", new WriteVersion(5, 1));
        b.Add("k", new WriteVersion(5, 2));
        Assert.NotEqual(a.Root, b.Root);
    }

    [Property(MaxTest = 200)]
    public void Leaf_diff_sends_each_key_to_the_side_that_is_older_or_missing(NonNegativeInt[] left, NonNegativeInt[] right)
    {
        var local = left.Select(x => x.Get % 50).Distinct().Select(k => new LeafEntry("k" + k, new WriteVersion(k % 7, 0))).ToList();
        var remote = right.Select(x => x.Get % 50).Distinct().Select(k => new LeafEntry("k" + k, new WriteVersion(k % 5, 0))).ToList();
        var (push, pull) = LeafDiff.Compare(local, remote);
        var l = local.ToDictionary(e => e.Key, e => e.Version);
        var r = remote.ToDictionary(e => e.Key, e => e.Version);
        var expectedPush = l.Keys.Where(k => !r.TryGetValue(k, out var v) || v < l[k]).OrderBy(k => k, StringComparer.Ordinal);
        var expectedPull = r.Keys.Where(k => !l.TryGetValue(k, out var v) || v < r[k]).OrderBy(k => k, StringComparer.Ordinal);
        Assert.Equal(expectedPush, push);
        Assert.Equal(expectedPull, pull);
    }

    /// <summary>
    /// A leaf's token range holds exactly the keys of that leaf: for every key, the range of
    /// (its partition, leaf) contains its token-high-64 iff the key is in that leaf, checked against
    /// the key's own leaf, its neighbours, a few random leaves and a neighbouring partition's ranges.
    /// </summary>
    [Property(MaxTest = 300)]
    public void Leaf_range_contains_exactly_the_keys_of_the_leaf(NonNull<string>[] rawKeys, byte depthSeed, byte partitionSeed, int salt)
    {
        int depth = depthSeed % (MerkleTree.MaxDepth + 1);
        int partitions = 1 << (partitionSeed % 17); // 1 .. Limits.MaxPartitions
        var tree = new MerkleTree(depth, partitions);
        var random = new System.Random(salt);
        IEnumerable<string> keys = rawKeys.Select(k => k.Get).Where(k => System.Text.Encoding.UTF8.GetByteCount(k) <= Meteora.Engine.Limits.MaxKeySizeBytes)
            .Concat(Enumerable.Range(0, 20).Select(i => $"key-{salt}-{i}"));
        foreach (string key in keys)
        {
            int partition = Token.OfKey(key).Partition(partitions);
            int own = tree.LeafOf(key);
            ulong tokenHigh = StorageOrder.TokenHigh64(key);
            Assert.True(tree.LeafRange(partition, own).Contains(tokenHigh), $"{key}: leaf {own} of p{partition} at depth {depth}, Q={partitions}");
            var leaves = new HashSet<int> { own, own - 1, own + 1, 0, tree.LeafCount - 1 };
            for (int i = 0; i < 8; i++) leaves.Add(random.Next(tree.LeafCount));
            foreach (int leaf in leaves.Where(l => l >= 0 && l < tree.LeafCount))
            {
                Assert.Equal(leaf == own, tree.LeafRange(partition, leaf).Contains(tokenHigh));
                if (partitions > 1)
                {
                    int other = (partition + 1 + random.Next(partitions - 1)) % partitions;
                    Assert.False(tree.LeafRange(other, leaf).Contains(tokenHigh), $"{key} of p{partition} inside a range of p{other}");
                }
            }
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 64)]
    [InlineData(3, 1)]
    [InlineData(10, 64)]
    [InlineData(20, 65536)]
    public void Leaf_ranges_tile_the_token_space_in_order(int depth, int partitions)
    {
        var tree = new MerkleTree(depth, partitions);
        int[] probes = partitions * tree.LeafCount <= 4096
            ? [.. Enumerable.Range(0, partitions)]
            : [0, 1, partitions / 2, partitions - 1];
        foreach (int p in probes)
        {
            TokenRange partitionRange = new MerkleTree(0, partitions).LeafRange(p, 0);
            Assert.Equal(partitionRange.First, tree.LeafRange(p, 0).First);
            Assert.Equal(partitionRange.Last, tree.LeafRange(p, tree.LeafCount - 1).Last);
            int step = Math.Max(1, tree.LeafCount / 64);
            for (int leaf = 0; leaf + step < tree.LeafCount; leaf += step)
            {
                Assert.Equal(tree.LeafRange(p, leaf + step - 1).Last + 1, tree.LeafRange(p, leaf + step).First);
            }
        }
        Assert.Equal(TokenRange.All, new MerkleTree(0, 1).LeafRange(0, 0));
        Assert.Equal(ulong.MaxValue, tree.LeafRange(partitions - 1, tree.LeafCount - 1).Last);
    }

    [Fact]
    public void Leaf_range_rejects_a_partition_or_leaf_out_of_bounds()
    {
        var tree = new MerkleTree(4, 64);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.LeafRange(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.LeafRange(64, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.LeafRange(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.LeafRange(0, 16));
        Assert.Throws<ArgumentException>(() => new TokenRange(2, 1));
        Assert.True(new TokenRange(5, 5).Contains(5));
        Assert.False(new TokenRange(5, 5).Contains(4));
        Assert.False(new TokenRange(5, 5).Contains(6));
    }

    /// <summary>Scanning only each leaf's range finds exactly the entries a whole-partition pass filtered by LeafOf finds.</summary>
    [Property(MaxTest = 100)]
    public void Entries_by_leaf_are_exactly_the_partition_entries_of_those_leaves(NonNegativeInt[] keyIds, byte depthSeed, byte partitionSeed, NonNegativeInt[] leafSeeds)
    {
        int depth = depthSeed % 9;
        int partitions = 1 << (partitionSeed % 5);
        var tree = new MerkleTree(depth, partitions);
        var storage = new InMemoryStorage();
        var stored = new Dictionary<string, WriteVersion>();
        long token = 0;
        foreach (NonNegativeInt id in keyIds.Concat(Enumerable.Range(0, 200).Select(i => NonNegativeInt.NewNonNegativeInt(i * 7919))))
        {
            string key = "k" + id.Get;
            var version = new WriteVersion(++token, 1);
            storage.Write(Token.OfKey(key).Partition(partitions), key, new StoredValue(version, [1]), token);
            stored[key] = version;
        }
        int partition = partitionSeed % partitions;
        int[] leaves = [.. leafSeeds.Select(x => x.Get % tree.LeafCount), 0, tree.LeafCount - 1, 0];

        var byLeaf = LeafDiff.EntriesByLeaf(storage, partition, tree, leaves);

        Assert.Equal(leaves.Distinct().Order(), byLeaf.Keys.Order());
        foreach (var (leaf, entries) in byLeaf)
        {
            var expected = stored
                .Where(e => Token.OfKey(e.Key).Partition(partitions) == partition && tree.LeafOf(e.Key) == leaf)
                .Select(e => new LeafEntry(e.Key, e.Value))
                .OrderBy(e => e.Key, StorageOrder.Instance);
            Assert.Equal(expected, entries);
        }
    }

    [Fact]
    public void Depth_outside_limits_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(-1, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(21, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(4, 48));
    }
}

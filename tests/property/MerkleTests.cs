using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Merkle;
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

    [Fact]
    public void Depth_outside_limits_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(-1, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(21, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(4, 48));
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

public sealed class LwwTests
{
    // Small domains on purpose, so equal timestamps and equal versions with different content occur.
    public static Arbitrary<StoredValue> Values() =>
        (from ts in Gen.Choose(0, 5)
         from node in Gen.Choose(0, 3)
         from tombstone in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
         from bytes in Gen.ArrayOf(Gen.Choose(0, 2).Select(b => (byte)b), 2)
         select new StoredValue(new WriteVersion(ts, (uint)node), tombstone ? null : bytes)).ToArbitrary();

    [Property(Arbitrary = [typeof(LwwTests)], MaxTest = 500)]
    public void Merge_is_commutative(StoredValue a, StoredValue b) =>
        Assert.Equal(Lww.Merge(a, b), Lww.Merge(b, a));

    [Property(Arbitrary = [typeof(LwwTests)], MaxTest = 500)]
    public void Merge_is_associative(StoredValue a, StoredValue b, StoredValue c) =>
        Assert.Equal(Lww.Merge(Lww.Merge(a, b), c), Lww.Merge(a, Lww.Merge(b, c)));

    [Property(Arbitrary = [typeof(LwwTests)], MaxTest = 500)]
    public void Merge_is_idempotent(StoredValue a) => Assert.Equal(a, Lww.Merge(a, a));

    [Property(Arbitrary = [typeof(LwwTests)], MaxTest = 500)]
    public void Merge_picks_the_higher_version(StoredValue a, StoredValue b)
    {
        StoredValue merged = Lww.Merge(a, b)!;
        Assert.True(merged.Version >= a.Version && merged.Version >= b.Version);
        Assert.True(merged.Equals(a) || merged.Equals(b));
    }

    [Property(Arbitrary = [typeof(LwwTests)], MaxTest = 300)]
    public void Any_delivery_order_converges(StoredValue[] writes, int rotation)
    {
        if (writes.Length == 0) return;
        StoredValue? forward = null, rotated = null;
        foreach (StoredValue w in writes) forward = Lww.Merge(forward, w);
        int shift = Math.Abs(rotation % writes.Length);
        for (int i = 0; i < writes.Length; i++) rotated = Lww.Merge(rotated, writes[(i + shift) % writes.Length]);
        foreach (StoredValue w in writes) rotated = Lww.Merge(rotated, w); // duplicates too
        Assert.Equal(forward, rotated);
    }

    [Fact]
    public void Version_order_is_total_with_node_tie_breaker()
    {
        Assert.True(new WriteVersion(5, 1) < new WriteVersion(5, 2));
        Assert.True(new WriteVersion(4, 9) < new WriteVersion(5, 0));
        Assert.True(WriteVersion.Zero < new WriteVersion(0, 1));
    }

    private sealed class FixedClock(long now) : Meteora.Engine.Runtime.IClock
    {
        public long NowMicros { get; set; } = now;
    }

    [Fact]
    public void Version_clock_is_strictly_monotonic_even_when_time_goes_backwards()
    {
        var clock = new FixedClock(1_000);
        var versions = new VersionClock(clock, 7);
        WriteVersion a = versions.Next();
        clock.NowMicros = 10;
        WriteVersion b = versions.Next();
        WriteVersion c = versions.Next();
        Assert.True(a < b && b < c);
        versions.Observe(new WriteVersion(5_000, 1));
        Assert.True(versions.Next() > new WriteVersion(5_000, 1));
        Assert.Equal(7u, c.Node);
    }
}

namespace Meteora.Engine.Versioning;

/// <summary>
/// Last-write-wins merge. The higher version wins; equal versions (which distinct writes never
/// share) fall back to comparing content, tombstone first, then bytes. That makes merge a join on a
/// total order: commutative, associative and idempotent, so replicas converge whatever order
/// writes, repairs and duplicates arrive in.
/// </summary>
public static class Lww
{
    public static StoredValue? Merge(StoredValue? a, StoredValue? b)
    {
        if (a is null) return b;
        if (b is null) return a;
        return Compare(a, b) >= 0 ? a : b;
    }

    /// <summary>Total order used by <see cref="Merge"/>: negative when a loses to b.</summary>
    public static int Compare(StoredValue a, StoredValue b)
    {
        int byVersion = a.Version.CompareTo(b.Version);
        if (byVersion != 0) return byVersion;
        if (a.Value is null) return b.Value is null ? 0 : -1;
        if (b.Value is null) return 1;
        return a.Value.AsSpan().SequenceCompareTo(b.Value);
    }

    internal static bool SameBytes(byte[]? a, byte[]? b)
    {
        if (a is null || b is null) return a is null && b is null;
        return a.AsSpan().SequenceEqual(b);
    }
}

namespace Meteora.Engine.Versioning;

/// <summary>
/// The LWW order rooms use to decide "is a newer than b". One instance per node, so the planted
/// lww-no-tiebreak bug (equal timestamps are never newer) swaps it in one place.
/// </summary>
internal sealed class VersionOrder
{
    public static readonly VersionOrder Lww = new(static (a, b) => Versioning.Lww.Compare(a, b) > 0);

    /// <summary>Planted bug: compares timestamps only, so concurrent writes with equal timestamps diverge.</summary>
    public static readonly VersionOrder NoTieBreak = new(static (a, b) => a.Version.TimestampMicros > b.Version.TimestampMicros);

    private VersionOrder(Func<StoredValue, StoredValue, bool> newer) => Newer = newer;

    public Func<StoredValue, StoredValue, bool> Newer { get; }
}

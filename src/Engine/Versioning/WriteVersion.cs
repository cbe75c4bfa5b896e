namespace Meteora.Engine.Versioning;

/// <summary>
/// A write's version: (timestamp in microseconds, coordinator node id). The node id breaks ties, and
/// a coordinator never issues the same timestamp twice (<see cref="VersionClock"/>), so distinct
/// writes have distinct versions and the order is total.
/// </summary>
public readonly record struct WriteVersion(long TimestampMicros, uint Node) : IComparable<WriteVersion>
{
    /// <summary>Older than every real write: what "no entry" compares as.</summary>
    public static readonly WriteVersion Zero = new(0, 0);

    public bool IsZero => TimestampMicros == 0 && Node == 0;

    public int CompareTo(WriteVersion other)
    {
        int byTime = TimestampMicros.CompareTo(other.TimestampMicros);
        return byTime != 0 ? byTime : Node.CompareTo(other.Node);
    }

    public static bool operator <(WriteVersion a, WriteVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(WriteVersion a, WriteVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(WriteVersion a, WriteVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(WriteVersion a, WriteVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{TimestampMicros}.{Node}";
}

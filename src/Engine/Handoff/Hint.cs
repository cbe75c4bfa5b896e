using Meteora.Engine.Versioning;

namespace Meteora.Engine.Handoff;

/// <summary>
/// A write a fallback node keeps for a replica that was down when the write was made (Dynamo section
/// 4.6, hinted handoff): <see cref="Target"/> is the intended replica, <see cref="Sequence"/> this
/// fallback's own counter (hints replay in sequence order per target), <see cref="StoredAtMicros"/>
/// the fallback's clock when it stored the hint (the hint window counts from it). A null value is a
/// tombstone: deletes are hinted like writes.
/// </summary>
public sealed record Hint(int Target, long Sequence, string Key, WriteVersion Version, byte[]? Value, long StoredAtMicros)
{
    /// <summary>Bytes counted against the hint bounds: key, value and a fixed header.</summary>
    public long SizeBytes => 48 + 2L * Key.Length + (Value?.Length ?? 0);

    /// <summary>The largest <see cref="SizeBytes"/> a hint can have.</summary>
    public const long MaxSizeBytes = 48 + 2L * Limits.MaxKeySizeBytes + Limits.MaxValueSizeBytes;

    public StoredValue AsStoredValue() => new(Version, Value);

    public bool Equals(Hint? other) =>
        other is not null && Target == other.Target && Sequence == other.Sequence && Key == other.Key
        && StoredAtMicros == other.StoredAtMicros && AsStoredValue().Equals(other.AsStoredValue());

    public override int GetHashCode() => HashCode.Combine(Target, Sequence, Key, Version);
}

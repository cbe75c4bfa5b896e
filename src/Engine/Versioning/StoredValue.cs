namespace Meteora.Engine.Versioning;

/// <summary>
/// What a replica stores for a key: a version and either a value or a tombstone (null value).
/// Equality compares the bytes.
/// </summary>
public sealed record StoredValue(WriteVersion Version, byte[]? Value)
{
    public bool IsTombstone => Value is null;

    public static StoredValue Tombstone(WriteVersion version) => new(version, null);

    public bool Equals(StoredValue? other) =>
        other is not null && Version == other.Version && Lww.SameBytes(Value, other.Value);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Version);
        if (Value is not null) hash.AddBytes(Value);
        else hash.Add(-1);
        return hash.ToHashCode();
    }
}

using Meteora.Engine.Versioning;

namespace Meteora.Checking;

/// <summary>
/// Every tombstone purge, so the checkers can tell "absent because the delete was purged after its
/// grace period" (correct) from "absent because a write was lost" (a violation), and can flag a value
/// older than a purged delete coming back (a resurrection).
/// </summary>
public sealed class PurgeLog
{
    private readonly Dictionary<string, List<(WriteVersion Version, long AtMicros)>> _byKey = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void Record(string key, WriteVersion tombstone, long atMicros)
    {
        Count++;
        if (!_byKey.TryGetValue(key, out var list)) _byKey[key] = list = [];
        list.Add((tombstone, atMicros));
    }

    /// <summary>The newest tombstone of the key purged anywhere at or before the given time (zero: none).</summary>
    public WriteVersion NewestPurgedBy(string key, long atMicros)
    {
        WriteVersion newest = WriteVersion.Zero;
        if (!_byKey.TryGetValue(key, out var list)) return newest;
        foreach (var (version, at) in list)
        {
            if (at <= atMicros && version > newest) newest = version;
        }
        return newest;
    }
}

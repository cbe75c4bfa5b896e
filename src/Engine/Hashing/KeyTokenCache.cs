namespace Meteora.Engine.Hashing;

/// <summary>
/// Tokens of recently seen keys, so a replica does not hash the same key again for every message about
/// it (<see cref="Token.OfKey"/> encodes the key to UTF-8 and runs MurmurHash3: ~4 % of the simulator's
/// instructions, issue 11). Direct-mapped: a key's slot comes from FNV-1a over its UTF-16 chars, a
/// deterministic choice that only decides hits and misses, never a token. A hit needs an equal key,
/// so a colliding key just replaces the slot. Keys longer than <see cref="MaxKeyChars"/> are not kept.
/// Owned by one engine room, so single-threaded like the engine itself.
/// </summary>
public sealed class KeyTokenCache
{
    public const int Slots = 1024;
    public const int MaxKeyChars = 64;

    /// <summary>Key and token side by side: a lookup touches one cache line, not one in each of two arrays.</summary>
    private readonly Entry[] _entries = new Entry[Slots];

    public Token Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > MaxKeyChars) return Token.OfKey(key);
        ref Entry entry = ref _entries[SlotOf(key)];
        if (string.Equals(entry.Key, key, StringComparison.Ordinal)) return entry.Token;
        entry = new Entry(key, Token.OfKey(key));
        return entry.Token;
    }

    private readonly record struct Entry(string? Key, Token Token);

    private static int SlotOf(string key)
    {
        uint hash = 2166136261;
        foreach (char c in key) hash = (hash ^ c) * 16777619;
        return (int)(hash & (Slots - 1));
    }
}

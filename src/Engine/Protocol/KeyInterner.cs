namespace Meteora.Engine.Protocol;

/// <summary>
/// Hands back the same string for a key decoded again, instead of a new one per message. A cluster's
/// traffic keeps naming the same hot keys, and the fresh string per decoded key was the allocation
/// behind ~20 % of the samples inside the GC in the native simulator's profile (issue 11). One
/// instance per reader of frames (the simulated cluster, a peer connection): not thread-safe, never shared.
/// <para>
/// A direct-mapped table of <see cref="Slots"/> recent keys, indexed by an FNV-1a hash of the bytes
/// (deterministic; a collision only replaces the slot). Only keys up to
/// <see cref="MaxInternedKeyBytes"/> are kept, so the table holds at most ~Slots × that many bytes.
/// Which string instance comes back never changes what a decoded message means.
/// </para>
/// </summary>
public sealed class KeyInterner
{
    public const int Slots = 1024;
    public const int MaxInternedKeyBytes = 64;

    private readonly byte[]?[] _bytes = new byte[]?[Slots];
    private readonly string?[] _strings = new string?[Slots];

    /// <summary>Decodes saved: keys answered from the table (tests read it).</summary>
    public long Hits { get; private set; }

    /// <summary>
    /// The key for <paramref name="utf8"/>: a kept string when the same bytes were seen last in its
    /// slot, otherwise a newly decoded one. Invalid UTF-8 throws <see cref="System.Text.DecoderFallbackException"/>
    /// (the codec turns it into a protocol error) and nothing is kept.
    /// </summary>
    public string GetOrDecode(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxInternedKeyBytes) return MessageCodec.StrictUtf8.GetString(utf8);
        int slot = (int)(Fnv1a(utf8) & (Slots - 1));
        if (_bytes[slot] is { } kept && utf8.SequenceEqual(kept))
        {
            Hits++;
            return _strings[slot]!;
        }
        string key = MessageCodec.StrictUtf8.GetString(utf8);
        _bytes[slot] = utf8.ToArray();
        _strings[slot] = key;
        return key;
    }

    private static uint Fnv1a(ReadOnlySpan<byte> bytes)
    {
        uint hash = 2166136261;
        foreach (byte b in bytes) hash = (hash ^ b) * 16777619;
        return hash;
    }
}

namespace Meteora.Sim;

/// <summary>Running 64-bit FNV-1a over every processed event: equal seeds must give equal hashes.</summary>
public sealed class TraceHash
{
    private ulong _hash = 0xcbf29ce484222325UL;

    public ulong Value => _hash;

    public void Add(long value)
    {
        for (int i = 0; i < 8; i++)
        {
            _hash ^= (byte)(value >> (i * 8));
            _hash *= 0x100000001b3UL;
        }
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        Add(bytes.Length);
        foreach (byte b in bytes)
        {
            _hash ^= b;
            _hash *= 0x100000001b3UL;
        }
    }

    public override string ToString() => _hash.ToString("x16");
}

using Meteora.Engine.Runtime;

namespace Meteora.Net.Runtime;

/// <summary>Real randomness for a real node (the engine only uses it for request-id starting points and jitter).</summary>
public sealed class SystemRandom : IRandom
{
    public ulong NextUInt64()
    {
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        return Random.Shared.Next(maxExclusive);
    }
}

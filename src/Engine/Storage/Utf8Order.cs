using System.Text;

namespace Meteora.Engine.Storage;

/// <summary>
/// Orders keys by their UTF-8 bytes, the order RocksDB keeps them in. (Ordinal string comparison
/// is UTF-16 order, which differs for characters above U+FFFF.)
/// </summary>
public sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        Span<byte> a = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(x.Length, 512))];
        Span<byte> b = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(y.Length, 512))];
        if (x.Length > 512 || y.Length > 512)
        {
            return Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));
        }
        int n = Encoding.UTF8.GetBytes(x, a);
        int m = Encoding.UTF8.GetBytes(y, b);
        return a[..n].SequenceCompareTo(b[..m]);
    }
}

using System.Diagnostics;

namespace Meteora.Net.Storage;

/// <summary>
/// Refuses writes while the data directory's file system has less than <see cref="MinFreeBytes"/>
/// free, so RocksDB itself rarely meets ENOSPC (a failed WAL append poisons its WAL writer until the
/// database is reopened). Like Elasticsearch's flood-stage disk watermark: refuse writes, keep
/// serving reads, resume by itself when space returns. The probe is cached for a few milliseconds
/// because it runs on the write path.
/// </summary>
public sealed class DiskSpaceGuard
{
    /// <summary>Room kept free: above the largest write (a 1 MiB value plus key and WAL framing) with margin for RocksDB's own files.</summary>
    public const long DefaultMinFreeBytes = 8L * 1024 * 1024;

    /// <summary>How long one free-space answer is reused.</summary>
    public const int ProbeCacheMs = 10;

    private readonly string _path;
    private readonly Func<string, long> _freeBytes;
    private long _probedAtTicks = long.MinValue;
    private long _lastFreeBytes = long.MaxValue;

    public DiskSpaceGuard(string path, long minFreeBytes = DefaultMinFreeBytes, Func<string, long>? freeBytes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(minFreeBytes);
        _path = path;
        MinFreeBytes = minFreeBytes;
        _freeBytes = freeBytes ?? StatFreeBytes;
    }

    public long MinFreeBytes { get; }

    /// <summary>Free bytes at the last probe (refreshed at most every <see cref="ProbeCacheMs"/>).</summary>
    public long FreeBytes
    {
        get
        {
            long now = Stopwatch.GetTimestamp();
            long last = Interlocked.Read(ref _probedAtTicks);
            if (last == long.MinValue || Stopwatch.GetElapsedTime(last, now).TotalMilliseconds >= ProbeCacheMs)
            {
                Interlocked.Exchange(ref _lastFreeBytes, _freeBytes(_path));
                Interlocked.Exchange(ref _probedAtTicks, now);
            }
            return Interlocked.Read(ref _lastFreeBytes);
        }
    }

    /// <summary>Null while writes may go on; otherwise the one-line reason they are refused.</summary>
    public string? Refusal()
    {
        long free = FreeBytes;
        return free >= MinFreeBytes ? null
            : $"disk full: the data directory {_path} has {free} bytes free, below the {MinFreeBytes}-byte reserve; writes are refused until space returns, reads are served";
    }

    private static long StatFreeBytes(string path)
    {
        try
        {
            return new DriveInfo(path).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0; // cannot tell: refuse writes rather than risk a poisoned WAL
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace Meteora.Net.Storage;

/// <summary>
/// Opening RocksDB writes (WAL recovery flushes a table, a new WAL and manifest are created), so a node
/// restarted on a full disk cannot open its store. It waits for space instead of exiting: the disk
/// is the operator's (or another process's) to free, and the node then starts by itself, as a
/// running node resumes writes by itself (found by the nemesis: a node killed and restarted just as
/// its disk filled exited with "No space left on device"). Bounded, so a disk that never empties
/// still ends in the one-line startup error.
/// </summary>
public static class DiskFullStartup
{
    public const int DefaultMaxWaitMs = 10 * 60 * 1000;
    public const int RetryEveryMs = 1_000;

    public static T OpenWaitingForSpace<T>(Func<T> open, ILogger logger, int maxWaitMs = DefaultMaxWaitMs, Action<int>? sleep = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(logger);
        sleep ??= Thread.Sleep;
        long started = Stopwatch.GetTimestamp();
        bool logged = false;
        while (true)
        {
            try
            {
                return open();
            }
            catch (Exception e) when (e is IOException or RocksDbException && IsDiskFull(e)
                && Stopwatch.GetElapsedTime(started).TotalMilliseconds < maxWaitMs)
            {
                if (!logged) logger.LogWarning("disk full, waiting up to {MaxWaitMs} ms for space before starting: {Reason}", maxWaitMs, e.Message);
                logged = true;
                sleep(RetryEveryMs);
            }
        }
    }

    public static bool IsDiskFull(Exception e) => e.Message.Contains("No space left on device", StringComparison.Ordinal);
}

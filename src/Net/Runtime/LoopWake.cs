namespace Meteora.Net.Runtime;

/// <summary>
/// How the event loop sleeps while idle and how producers wake it: a kernel event that the producer
/// itself sets, not a thread-pool continuation. Under HTTP load the pool's queue is long, and waiting
/// for a pool thread to complete a <c>WaitToReadAsync</c> task put milliseconds between a post and its
/// run (issue 11: queue-wait p99 ~10 ms before, ~1.3 ms after).
/// </summary>
internal sealed class LoopWake
{
    /// <summary>No spinning before the sleep: on two cores the spin would take the core Kestrel needs.</summary>
    private readonly ManualResetEventSlim _event = new(false, spinCount: 0);
    private int _sleeping;

    /// <summary>
    /// Loop thread only: sleeps unless <paramref name="hasWork"/> says there is work, until a
    /// <see cref="AfterPost"/>, <see cref="WakeForStop"/> or <paramref name="waitMs"/>.
    /// </summary>
    public void Sleep(Func<bool> hasWork, int waitMs)
    {
        // Announce the sleep before the last look for work. A producer that posted after that look
        // reads the flag after its post; the channel's lock orders the two, so one of them sees the other.
        Interlocked.Exchange(ref _sleeping, 1);
        if (!hasWork()) _event.Wait(waitMs);
        _event.Reset();
        Volatile.Write(ref _sleeping, 0);
    }

    /// <summary>Producers, after each successful write: wakes the loop if it announced a sleep.</summary>
    public void AfterPost()
    {
        if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) != 0) _event.Set();
    }

    public void WakeForStop() => _event.Set();
}

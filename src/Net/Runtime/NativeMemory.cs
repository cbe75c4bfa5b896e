using System.Runtime.InteropServices;

namespace Meteora.Net.Runtime;

/// <summary>
/// glibc's malloc gives each thread that meets contention an arena of its own (up to eight per core)
/// and returns freed pages inside an arena to the OS only when asked. RocksDB's memtables are malloc'ed
/// and freed by the loop, the I/O thread and its flush threads, so under write load a node's RSS crept
/// up by ~30 MiB a minute while RocksDB's own count of its memory stayed flat (issue 11; measured with
/// meteora_storage_memory_bytes). A periodic malloc_trim(3), for as long as a node runs, hands those
/// pages back. MALLOC_ARENA_MAX would prevent most of it, but glibc reads it at process start, before
/// any code of ours runs.
/// </summary>
internal sealed class NativeMemory : IDisposable
{
    /// <summary>How often freed native memory is handed back (a trim walks the arenas in about a millisecond).</summary>
    public const int TrimIntervalMs = 5_000;

    private readonly Timer? _timer;

    private NativeMemory(Timer? timer) => _timer = timer;

    /// <summary>Starts trimming on Linux with glibc; elsewhere does nothing.</summary>
    public static NativeMemory StartTrimming()
    {
        if (!OperatingSystem.IsLinux() || !TryTrim()) return new NativeMemory(null);
        return new NativeMemory(new Timer(static _ => TryTrim(), null, TrimIntervalMs, TrimIntervalMs));
    }

    private static bool TryTrim()
    {
        try
        {
            _ = malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl keeps no arenas to trim)
        }
    }

    public void Dispose() => _timer?.Dispose();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint padBytes);
}

using System.Runtime.InteropServices;

namespace Meteora.Net.Cluster;

/// <summary>Sends POSIX signals (Process.Kill only sends SIGKILL, which skips a node's clean shutdown).</summary>
public static partial class PosixSignals
{
    public const int SigTerm = 15;

    public static bool TrySend(int pid, int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        return kill(pid, signal) == 0;
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code enabled; a blittable DllImport is equivalent here.
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}

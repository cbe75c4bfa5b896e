namespace Meteora.Nemesis;

public enum FaultKind
{
    /// <summary>iptables drops between groups of nodes: random halves, one node isolated, or a one-way cut.</summary>
    Partition,

    /// <summary>kill -9 of one node, restarted on the same data when the fault heals.</summary>
    Kill,

    /// <summary>SIGSTOP of one node for a few seconds (a long GC pause), then SIGCONT.</summary>
    Pause,

    /// <summary>libfaketime offsets a node's wall clock, then jumps it, then restores it.</summary>
    Clock,

    /// <summary>A ballast file fills a node's size-limited tmpfs data directory, then is removed.</summary>
    Disk,
}

internal static class FaultKinds
{
    public static readonly IReadOnlyList<FaultKind> All = [FaultKind.Partition, FaultKind.Kill, FaultKind.Pause, FaultKind.Clock, FaultKind.Disk];

    public static string Name(FaultKind kind) => kind.ToString().ToLowerInvariant();

    public static IReadOnlyList<FaultKind> ParseList(string text)
    {
        string trimmed = text.Trim().ToLowerInvariant();
        if (trimmed == "all") return All;
        if (trimmed is "none" or "") return [];
        var kinds = new List<FaultKind>();
        foreach (string part in trimmed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            FaultKind kind = All.FirstOrDefault(k => Name(k) == part, (FaultKind)(-1));
            if (kind == (FaultKind)(-1))
            {
                throw new UsageException($"unknown fault '{part}' in --faults (expected partition, kill, pause, clock, disk, all or none)");
            }
            if (!kinds.Contains(kind)) kinds.Add(kind);
        }
        return kinds;
    }
}

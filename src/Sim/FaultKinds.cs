namespace Meteora.Sim;

[Flags]
public enum FaultKinds
{
    None = 0,
    Partition = 1,
    Crash = 2,
    Drop = 4,
    Dup = 8,
    Reorder = 16,
    Disk = 32,
    Clock = 64,
    Buggify = 128,
    /// <summary>Ring changes: joins of fresh nodes, leaves, removals of crashed members (not in All: opt in with "membership").</summary>
    Membership = 256,
    All = Partition | Crash | Drop | Dup | Reorder | Disk | Clock | Buggify,
}

public static class FaultKindsParser
{
    /// <summary>Parses "partition,crash,..." or "all" or "none".</summary>
    public static FaultKinds Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return FaultKinds.None;
        FaultKinds kinds = FaultKinds.None;
        foreach (string raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            kinds |= raw.ToLowerInvariant() switch
            {
                "all" => FaultKinds.All,
                "none" => FaultKinds.None,
                "partition" => FaultKinds.Partition,
                "crash" => FaultKinds.Crash,
                "drop" => FaultKinds.Drop,
                "dup" => FaultKinds.Dup,
                "reorder" => FaultKinds.Reorder,
                "disk" => FaultKinds.Disk,
                "clock" => FaultKinds.Clock,
                "buggify" => FaultKinds.Buggify,
                "membership" => FaultKinds.Membership,
                _ => throw new SimUsageException($"unknown fault kind '{raw}' (expected partition,crash,drop,dup,reorder,disk,clock,buggify,membership or all)"),
            };
        }
        return kinds;
    }

    public static string Format(FaultKinds kinds)
    {
        if (kinds == FaultKinds.None) return "none";
        if (kinds == FaultKinds.All) return "all";
        if (kinds == (FaultKinds.All | FaultKinds.Membership)) return "all,membership";
        var names = new List<string>();
        foreach (FaultKinds kind in Enum.GetValues<FaultKinds>())
        {
            if (kind is FaultKinds.None or FaultKinds.All) continue;
            if ((kinds & kind) != 0) names.Add(kind.ToString().ToLowerInvariant());
        }
        return string.Join(',', names);
    }
}

public static class PlantedBugParser
{
    public static Meteora.Engine.Node.PlantedBug Parse(string? text) =>
        Meteora.Engine.Node.PlantedBugNames.TryParse(text, out var bug) ? bug
            : throw new SimUsageException($"unknown planted bug '{text}' (expected {Meteora.Engine.Node.PlantedBugNames.Expected})");

    public static string Format(Meteora.Engine.Node.PlantedBug bug) => Meteora.Engine.Node.PlantedBugNames.Format(bug);
}

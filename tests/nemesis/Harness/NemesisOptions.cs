using System.Globalization;
using Meteora.Engine.Node;

namespace Meteora.Nemesis;

/// <summary>A command-line mistake: one line on stderr, exit 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>What one nemesis run does; every choice the faults make comes from <see cref="Seed"/>.</summary>
internal sealed record NemesisOptions
{
    public const int MinNodes = 3;
    public const int MaxNodes = 9;
    public const int MaxDurationS = 24 * 3600;

    public ulong Seed { get; init; } = 1;
    public int Nodes { get; init; } = 5;
    public int DurationS { get; init; } = 60;
    public IReadOnlyList<FaultKind> Faults { get; init; } = FaultKinds.All;
    public PlantedBug Plant { get; init; } = PlantedBug.None;

    /// <summary>Where logs and the history go (default: a new folder under the system temp directory).</summary>
    public string? OutDir { get; init; }

    /// <summary>The nodes' program (meteora.dll), given by tests/nemesis/run.</summary>
    public required string MeteoraDll { get; init; }

    /// <summary>A file holding the cluster's shared peer secret, passed to every node (null: the node program has no such option).</summary>
    public string? ClusterSecretFile { get; init; }

    /// <summary>Print the seed's fault plan and stop (no root, no nodes).</summary>
    public bool PlanOnly { get; init; }

    public int ReplicationFactor { get; init; } = 3;
    public int Keys { get; init; } = 24;
    public int Clients { get; init; } = 8;

    /// <summary>The command that repeats this run exactly (same seed, same fault plan).</summary>
    public string RepeatCommand()
    {
        string faults = Faults.Count == 0 ? "none" : string.Join(',', Faults.Select(FaultKinds.Name));
        string plant = Plant == PlantedBug.None ? "" : $" --plant {PlantedBugNames.Format(Plant)}";
        return $"tests/nemesis/run --seed {Seed} --nodes {Nodes} --duration-s {DurationS} --faults {faults}{plant}";
    }

    public const string Usage =
        "usage: tests/nemesis/run [--seed S] [--nodes K] [--duration-s D] [--faults partition,kill,pause,clock,disk|all|none] [--plant BUG] [--out DIR] [--plan-only]";

    private static readonly string[] KnownFlags = ["--seed", "--nodes", "--duration-s", "--faults", "--plant", "--out", "--meteora"];

    public static NemesisOptions Parse(IReadOnlyList<string> args)
    {
        string? dll = null;
        var options = new NemesisOptions { MeteoraDll = "" };
        for (int i = 0; i < args.Count; i++)
        {
            string flag = args[i];
            if (flag is "-h" or "--help") throw new UsageException(Usage);
            if (flag == "--plan-only")
            {
                options = options with { PlanOnly = true };
                continue;
            }
            if (!KnownFlags.Contains(flag)) throw new UsageException($"unknown option '{flag}'; {Usage}");
            if (i + 1 >= args.Count) throw new UsageException($"{flag} needs a value; {Usage}");
            string value = args[++i];
            options = flag switch
            {
                "--seed" => options with { Seed = ParseSeed(value) },
                "--nodes" => options with { Nodes = ParseInt(flag, value, MinNodes, MaxNodes) },
                "--duration-s" => options with { DurationS = ParseInt(flag, value, 10, MaxDurationS) },
                "--faults" => options with { Faults = FaultKinds.ParseList(value) },
                "--plant" => options with
                {
                    Plant = PlantedBugNames.TryParse(value, out PlantedBug bug) ? bug
                        : throw new UsageException($"--plant must be {PlantedBugNames.Expected}, got '{value}'"),
                },
                "--out" => options with { OutDir = value },
                "--meteora" => options with { MeteoraDll = dll = value },
                _ => throw new UsageException($"unknown option '{flag}'; {Usage}"),
            };
        }
        if (dll is null) throw new UsageException("--meteora PATH/meteora.dll is required (tests/nemesis/run passes it)");
        return options;
    }

    private static ulong ParseSeed(string value) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed) ? seed
            : throw new UsageException($"--seed must be a non-negative integer, got '{value}'");

    private static int ParseInt(string flag, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) || parsed < min || parsed > max)
        {
            throw new UsageException($"{flag} must be an integer in {min}..{max}, got '{value}'");
        }
        return parsed;
    }
}

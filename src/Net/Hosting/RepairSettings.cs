using System.CommandLine;
using System.Globalization;
using Meteora.Engine.Repair;
using Meteora.Net.Cli;
using Microsoft.Extensions.Configuration;

namespace Meteora.Net.Hosting;

/// <summary>
/// Anti-entropy settings of a node: the "Meteora:Repair" configuration section (keys named like
/// <see cref="RepairOptions"/>'s properties, e.g. <c>Meteora__Repair__AntiEntropyIntervalMs=0</c>) and
/// the flags that set them. Shared by <c>meteora node</c> and <c>meteora cluster</c> (which validates
/// them once and passes the same flags to every child).
/// </summary>
public sealed class RepairSettings
{
    public const string Section = "Repair";

    private static readonly (string Property, string Flag, string Description)[] Table =
    [
        (nameof(RepairOptions.MerkleDepth), "--merkle-depth", "Merkle tree depth: 2^DEPTH leaves per partition replica (default 10)"),
        (nameof(RepairOptions.AntiEntropyIntervalMs), "--ae-interval-ms", "Background anti-entropy period in ms; 0 turns it off (default 60000)"),
        (nameof(RepairOptions.TombstoneGraceMs), "--tombstone-grace-ms", "Tombstones are purged only after this many ms (default 864000000, 10 days)"),
        (nameof(RepairOptions.RequestTimeoutMs), "--repair-timeout-ms", "Repair request timeout in ms before a retry (default 2000)"),
        (nameof(RepairOptions.MaxAttempts), "--repair-attempts", "Tries per repair request before a partition session fails (default 3)"),
        (nameof(RepairOptions.MaxConcurrentSessions), "--repair-sessions", "Partition repair sessions run at once (default 4)"),
    ];

    private readonly Setting[] _settings = [.. Table.Select(t => new Setting(t.Property, t.Flag, t.Description))];

    public IEnumerable<Option> Options => _settings.Select(s => (Option)s.Option);

    /// <summary>Flags given on the command line, as configuration keys ("Meteora:Repair:MerkleDepth" → "8").</summary>
    public void PutFlags(ParseResult parse, IDictionary<string, string?> flags)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(flags);
        foreach (Setting setting in _settings)
        {
            if (parse.GetValue(setting.Option) is { } value)
            {
                flags[$"{NodeConfig.Section}:{Section}:{setting.Property}"] = value.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>The flags given on the command line, ready to pass on to a child <c>meteora node</c>.</summary>
    public IReadOnlyList<string> ForwardedArgs(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var args = new List<string>();
        foreach (Setting setting in _settings)
        {
            if (parse.GetValue(setting.Option) is { } value)
            {
                args.Add(setting.Option.Name);
                args.Add(value.ToString(CultureInfo.InvariantCulture));
            }
        }
        return args;
    }

    /// <summary>Reads and validates "Meteora:Repair"; problems throw <see cref="CliUsageException"/> naming the setting and its flag.</summary>
    public static RepairOptions From(IConfigurationSection meteora)
    {
        ArgumentNullException.ThrowIfNull(meteora);
        IConfigurationSection s = meteora.GetSection(Section);
        var defaults = new RepairOptions();
        var options = new RepairOptions
        {
            MerkleDepth = (int)Number(s, nameof(RepairOptions.MerkleDepth), defaults.MerkleDepth, int.MinValue, int.MaxValue),
            AntiEntropyIntervalMs = Number(s, nameof(RepairOptions.AntiEntropyIntervalMs), defaults.AntiEntropyIntervalMs, long.MinValue, long.MaxValue),
            TombstoneGraceMs = Number(s, nameof(RepairOptions.TombstoneGraceMs), defaults.TombstoneGraceMs, long.MinValue, long.MaxValue),
            RequestTimeoutMs = Number(s, nameof(RepairOptions.RequestTimeoutMs), defaults.RequestTimeoutMs, long.MinValue, long.MaxValue),
            MaxAttempts = (int)Number(s, nameof(RepairOptions.MaxAttempts), defaults.MaxAttempts, int.MinValue, int.MaxValue),
            MaxConcurrentSessions = (int)Number(s, nameof(RepairOptions.MaxConcurrentSessions), defaults.MaxConcurrentSessions, int.MinValue, int.MaxValue),
            SliceEntries = (int)Number(s, nameof(RepairOptions.SliceEntries), defaults.SliceEntries, int.MinValue, int.MaxValue),
            ReplyBudgetBytes = (int)Number(s, nameof(RepairOptions.ReplyBudgetBytes), defaults.ReplyBudgetBytes, int.MinValue, int.MaxValue),
        };
        Validate(options);
        return options;
    }

    /// <summary>The engine's bounds, reported as "--merkle-depth (Meteora:Repair:MerkleDepth) must be in 0..20, got 99".</summary>
    public static void Validate(RepairOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw SettingError(e, Section, Table.Select(t => (t.Property, t.Flag)), property => ValueOf(options, property));
        }
    }

    /// <summary>
    /// An engine options validation error ("MerkleDepth must be in ...", the property named first) as the
    /// one-line CLI error "--merkle-depth (Meteora:Repair:MerkleDepth) must be in ..., got 99".
    /// </summary>
    public static CliUsageException SettingError(ArgumentOutOfRangeException e, string section,
        IEnumerable<(string Property, string Flag)> flags, Func<string, string?> valueOf)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = EngineMessage(e);
        string property = message.Split(' ', 2)[0];
        string rest = message.Length > property.Length ? message[property.Length..] : " is out of range";
        string? flag = flags.FirstOrDefault(x => x.Property == property).Flag;
        string name = flag is null ? $"{NodeConfig.Section}:{section}:{property}" : $"{flag} ({NodeConfig.Section}:{section}:{property})";
        string got = valueOf(property) is { } value ? $", got {value}" : "";
        return new CliUsageException($"{name}{rest}{got}");
    }

    /// <summary>An engine validation message without .NET's " (Parameter 'x')" suffix and "Actual value" line.</summary>
    public static string EngineMessage(ArgumentException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = e.Message.Split(Environment.NewLine)[0];
        int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return suffix < 0 ? message : message[..suffix];
    }

    private static string? ValueOf(RepairOptions o, string property) => property switch
    {
        nameof(RepairOptions.MerkleDepth) => Text(o.MerkleDepth),
        nameof(RepairOptions.AntiEntropyIntervalMs) => Text(o.AntiEntropyIntervalMs),
        nameof(RepairOptions.TombstoneGraceMs) => Text(o.TombstoneGraceMs),
        nameof(RepairOptions.RequestTimeoutMs) => Text(o.RequestTimeoutMs),
        nameof(RepairOptions.MaxAttempts) => Text(o.MaxAttempts),
        nameof(RepairOptions.MaxConcurrentSessions) => Text(o.MaxConcurrentSessions),
        nameof(RepairOptions.SliceEntries) => Text(o.SliceEntries),
        nameof(RepairOptions.ReplyBudgetBytes) => Text(o.ReplyBudgetBytes),
        _ => null,
    };

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long Number(IConfigurationSection section, string key, long fallback, long min, long max)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw new CliUsageException($"{NodeConfig.Section}:{Section}:{key} must be an integer in {min}..{max}, got '{text}'");
        }
        return value;
    }

    private sealed class Setting(string property, string flag, string description)
    {
        public string Property { get; } = property;
        public Option<long?> Option { get; } = new(flag) { Description = description };
    }
}

using System.CommandLine;
using System.Globalization;
using Meteora.Engine.Handoff;
using Meteora.Net.Cli;
using Microsoft.Extensions.Configuration;

namespace Meteora.Net.Hosting;

/// <summary>
/// Hinted-handoff settings of a node: the "Meteora:Hints" configuration section (keys named like
/// <see cref="HintOptions"/>'s properties, e.g. <c>Meteora__Hints__WindowMs</c>) and the flags that set
/// them. Shared by <c>meteora node</c> and <c>meteora cluster</c> (which passes them on to every child).
/// </summary>
public sealed class HintSettings
{
    public const string Section = "Hints";

    private static readonly (string Property, string Flag, string Description)[] Table =
    [
        (nameof(HintOptions.WindowMs), "--hint-window-ms", "Hints older than this are dropped and counted (default 10800000, 3 h)"),
        (nameof(HintOptions.MaxBytesPerTarget), "--max-hint-bytes-per-target", "Hint bytes held for one down replica before hinted writes are refused (default 64 MiB)"),
        (nameof(HintOptions.MaxBytesTotal), "--max-hint-bytes", "Hint bytes held in all before hinted writes are refused (default 256 MiB)"),
        (nameof(HintOptions.ReplayBytesPerSecond), "--hint-replay-bytes-per-second", "Hint replay rate, all targets together (default 4 MiB/s)"),
    ];

    private readonly Dictionary<string, Option<long?>> _options = Table.ToDictionary(t => t.Property, t => new Option<long?>(t.Flag) { Description = t.Description });

    public IEnumerable<Option> Options => _options.Values;

    /// <summary>Flags given on the command line, as configuration keys ("Meteora:Hints:WindowMs" → "60000").</summary>
    public void PutFlags(ParseResult parse, IDictionary<string, string?> flags)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(flags);
        foreach (var (property, option) in _options)
        {
            if (parse.GetValue(option) is { } value) flags[$"{NodeConfig.Section}:{Section}:{property}"] = value.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The flags given on the command line, ready to pass on to a child <c>meteora node</c>.</summary>
    public IReadOnlyList<string> ForwardedArgs(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var args = new List<string>();
        foreach (Option<long?> option in _options.Values)
        {
            if (parse.GetValue(option) is { } value) args.AddRange([option.Name, value.ToString(CultureInfo.InvariantCulture)]);
        }
        return args;
    }

    /// <summary>Reads and validates "Meteora:Hints"; problems throw <see cref="CliUsageException"/> naming the setting and its flag.</summary>
    public static HintOptions From(IConfigurationSection meteora)
    {
        ArgumentNullException.ThrowIfNull(meteora);
        IConfigurationSection s = meteora.GetSection(Section);
        var d = new HintOptions();
        var options = d with
        {
            WindowMs = Number(s, nameof(HintOptions.WindowMs), d.WindowMs),
            MaxBytesPerTarget = Number(s, nameof(HintOptions.MaxBytesPerTarget), d.MaxBytesPerTarget),
            MaxBytesTotal = Number(s, nameof(HintOptions.MaxBytesTotal), d.MaxBytesTotal),
            ReplayBytesPerSecond = Number(s, nameof(HintOptions.ReplayBytesPerSecond), d.ReplayBytesPerSecond),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw RepairSettings.SettingError(e, Section, Table.Select(t => (t.Property, t.Flag)), property => ValueOf(options, property));
        }
        return options;
    }

    private static string? ValueOf(HintOptions o, string property) => property switch
    {
        nameof(HintOptions.WindowMs) => o.WindowMs.ToString(CultureInfo.InvariantCulture),
        nameof(HintOptions.MaxBytesPerTarget) => o.MaxBytesPerTarget.ToString(CultureInfo.InvariantCulture),
        nameof(HintOptions.MaxBytesTotal) => o.MaxBytesTotal.ToString(CultureInfo.InvariantCulture),
        nameof(HintOptions.ReplayBytesPerSecond) => o.ReplayBytesPerSecond.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static long Number(IConfigurationSection section, string key, long fallback)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw new CliUsageException($"{NodeConfig.Section}:{Section}:{key} must be an integer, got '{text}'");
        }
        return value;
    }
}

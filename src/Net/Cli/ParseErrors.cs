using System.Text.RegularExpressions;

namespace Meteora.Net.Cli;

/// <summary>
/// Rewrites System.CommandLine's type-conversion errors, which name CLR types
/// (<c>System.Nullable`1[System.Int32]</c>), into the form the option expects.
/// </summary>
public static partial class ParseErrors
{
    public static string Describe(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Match match = CannotParse().Match(message);
        if (!match.Success) return message;
        string type = match.Groups["type"].Value;
        string expected = type.Contains("Int32") || type.Contains("Int64") ? "an integer"
            : type.Contains("Boolean") ? "true or false"
            : type.Contains("Double") ? "a number"
            : "a value of another form";
        return $"option {match.Groups["option"].Value} expects {expected}, got '{match.Groups["value"].Value}'";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();
}

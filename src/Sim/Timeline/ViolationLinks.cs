using System.Globalization;
using System.Text.RegularExpressions;

namespace Meteora.Sim.Timeline;

/// <summary>
/// The operations (<c>op#N</c>) and nodes (<c>nodeN</c>) a violation's text names, so the timeline can
/// highlight them. Stop-gap until the checker reports violations as structures naming them.
/// </summary>
public static partial class ViolationLinks
{
    public static (List<long> Ops, List<int> Nodes) Of(string violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var ops = new List<long>();
        foreach (Match m in OpId().Matches(violation))
        {
            long id = long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            if (!ops.Contains(id)) ops.Add(id);
        }
        var nodes = new List<int>();
        foreach (Match m in NodeId().Matches(violation))
        {
            int id = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            if (!nodes.Contains(id)) nodes.Add(id);
        }
        return (ops, nodes);
    }

    [GeneratedRegex(@"\bop#(\d{1,18})\b")]
    private static partial Regex OpId();

    [GeneratedRegex(@"\bnode(\d{1,4})\b")]
    private static partial Regex NodeId();
}

namespace Meteora.Sim;

/// <summary>
/// Reduces a failing run's schedule to a small one that still fails the same way (same check, e.g.
/// "freshness"), by greedy delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
/// Failure-Inducing Input", TSE 2002): drop faults, buggify sites and chunks of operations, halving
/// the chunk size, until nothing more can go. The seed stays fixed; latencies are still drawn from it.
/// </summary>
public sealed class Shrinker(ulong seed, SimOptions options, int maxRuns = 3000)
{
    public int Runs { get; private set; }

    /// <summary>The check a violation belongs to: the text before its first colon.</summary>
    public static string Category(string violation)
    {
        int colon = violation.IndexOf(':');
        return colon < 0 ? violation : violation[..colon];
    }

    public SimResult RunSchedule(Schedule schedule)
    {
        Runs++;
        return new SimCluster(seed, options, schedule: schedule).Run();
    }

    /// <summary>Returns the smallest failing schedule found, or null if <paramref name="schedule"/> passes.</summary>
    public (Schedule Schedule, SimResult Result)? Shrink(Schedule schedule)
    {
        SimResult first = RunSchedule(schedule);
        if (first.Ok) return null;
        string category = Category(first.Violations[0]);
        var best = (Schedule: schedule, Result: first);

        bool Fails(Schedule candidate, out SimResult result)
        {
            result = RunSchedule(candidate);
            foreach (string v in result.Violations)
            {
                if (Category(v) == category) return true;
            }
            return false;
        }

        bool progress = true;
        while (progress && Runs < maxRuns)
        {
            progress = false;
            // Faults and buggify sites one at a time (there are few of them).
            for (int i = best.Schedule.Faults.Count - 1; i >= 0 && Runs < maxRuns; i--)
            {
                var candidate = best.Schedule with { Faults = Without(best.Schedule.Faults, i, 1) };
                if (Fails(candidate, out var result)) { best = (candidate, result); progress = true; }
            }
            for (int i = best.Schedule.BuggifySites.Count - 1; i >= 0 && Runs < maxRuns; i--)
            {
                var candidate = best.Schedule with { BuggifySites = Without(best.Schedule.BuggifySites, i, 1) };
                if (Fails(candidate, out var result)) { best = (candidate, result); progress = true; }
            }
            // Only the ops on keys the violation names (removing unrelated ops one by one shifts timing).
            var keys = KeysNamedIn(best.Result.Violations, category);
            if (keys.Count > 0 && Runs < maxRuns)
            {
                var focused = new List<PlannedOp>();
                foreach (PlannedOp op in best.Schedule.Ops)
                {
                    if (keys.Contains(op.Key)) focused.Add(op);
                }
                if (focused.Count < best.Schedule.Ops.Count)
                {
                    var candidate = best.Schedule with { Ops = focused };
                    if (Fails(candidate, out var result)) { best = (candidate, result); progress = true; }
                }
            }
            // Operations in chunks, halving the chunk until single ops.
            for (int chunk = Math.Max(1, best.Schedule.Ops.Count / 2); chunk >= 1 && Runs < maxRuns; chunk /= 2)
            {
                for (int start = 0; start < best.Schedule.Ops.Count && Runs < maxRuns;)
                {
                    int count = Math.Min(chunk, best.Schedule.Ops.Count - start);
                    var candidate = best.Schedule with { Ops = Without(best.Schedule.Ops, start, count) };
                    if (Fails(candidate, out var result)) { best = (candidate, result); progress = true; }
                    else start += count;
                }
                if (chunk == 1) break;
            }
        }
        return best;
    }

    /// <summary>Keys mentioned (" k12 ", " k12=") in the violations of the given check.</summary>
    private static HashSet<string> KeysNamedIn(IReadOnlyList<string> violations, string category)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (string violation in violations)
        {
            if (Category(violation) != category) continue;
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(violation, @"(?<=[ ])k\d+(?=[ =])"))
            {
                keys.Add(m.Value);
            }
        }
        return keys;
    }

    private static List<T> Without<T>(IReadOnlyList<T> items, int start, int count)
    {
        var list = new List<T>(items.Count - count);
        for (int i = 0; i < items.Count; i++)
        {
            if (i < start || i >= start + count) list.Add(items[i]);
        }
        return list;
    }
}

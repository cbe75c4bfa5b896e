using Meteora.Engine.Protocol;

namespace Meteora.Sim.Timeline;

/// <summary>
/// Chooses which messages a timeline embeds when a run has more than a page can hold: every lost
/// message and every message on a client request's path (the ones a failing operation is about)
/// first, then anti-entropy traffic, one in every k in time order. The page draws at most a few
/// thousand of the embedded ones per view and says so; zooming in draws them all.
/// </summary>
public static class TimelineMessages
{
    /// <summary>Messages embedded in the HTML file (about 50 bytes of JSON each).</summary>
    public const int MaxEmbedded = 100_000;

    public static bool IsClientPath(MessageKind kind) => kind is MessageKind.ReplicaWrite or MessageKind.ReplicaWriteAck
        or MessageKind.ReplicaRead or MessageKind.ReplicaReadReply or MessageKind.ReadRepair;

    /// <summary>The messages to embed, in recording (send-time) order, and a sentence saying how they were chosen.</summary>
    public static (List<MessageRecord> Chosen, string Filter) Choose(IReadOnlyList<MessageRecord> recorded, long seen, int budget = MaxEmbedded)
    {
        if (budget < 1) throw new ArgumentOutOfRangeException(nameof(budget), budget, "budget must be positive");
        int priority = 0;
        foreach (MessageRecord m in recorded)
        {
            if (IsPriority(m)) priority++;
        }
        int background = recorded.Count - priority;
        int priorityStride = Stride(priority, budget);
        int backgroundBudget = Math.Max(0, budget - priority / priorityStride);
        int backgroundStride = backgroundBudget == 0 ? int.MaxValue : Stride(background, backgroundBudget);
        var chosen = new List<MessageRecord>(Math.Min(recorded.Count, budget));
        int priorityIndex = 0, backgroundIndex = 0;
        foreach (MessageRecord m in recorded)
        {
            bool keep = IsPriority(m) ? priorityIndex++ % priorityStride == 0 : backgroundIndex++ % backgroundStride == 0;
            if (keep) chosen.Add(m);
        }
        return (chosen, Describe(chosen.Count, seen, recorded.Count, priority, priorityStride, background, backgroundStride));
    }

    private static bool IsPriority(MessageRecord m) => IsClientPath(m.Kind) || m.Fate is not (MessageFate.Delivered or MessageFate.Duplicate);

    private static int Stride(int count, int budget) => count <= budget ? 1 : (count + budget - 1) / budget;

    private static string Describe(int chosen, long seen, int recorded, int priority, int priorityStride, int background, int backgroundStride)
    {
        if (chosen == seen) return $"all {seen:N0} messages between nodes";
        string text = $"{chosen:N0} of {seen:N0} messages between nodes: " +
            (priorityStride == 1 ? $"all {priority:N0} client-path or lost ones" : $"1 in {priorityStride} of {priority:N0} client-path or lost ones") +
            (backgroundStride == 1 ? $", all {background:N0} anti-entropy ones" : backgroundStride == int.MaxValue ? ", no anti-entropy ones" : $", 1 in {backgroundStride} of {background:N0} anti-entropy ones");
        if (seen > recorded) text += $" (recording stopped after {recorded:N0})";
        return text;
    }
}

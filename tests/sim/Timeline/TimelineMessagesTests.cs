using Meteora.Engine.Protocol;
using Meteora.Sim.Timeline;

namespace Meteora.Tests.Sim.Timeline;

public sealed class TimelineMessagesTests
{
    private static MessageRecord Message(long t, MessageKind kind, MessageFate fate = MessageFate.Delivered) =>
        new(t, t + 100, 0, 1, kind, fate, null);

    [Fact]
    public void Everything_fits_so_everything_is_kept()
    {
        var recorded = Enumerable.Range(0, 50).Select(i => Message(i, i % 2 == 0 ? MessageKind.ReplicaWrite : MessageKind.MerkleHashesRequest)).ToList();
        var (chosen, filter) = TimelineMessages.Choose(recorded, recorded.Count, budget: 50);
        Assert.Equal(recorded, chosen);
        Assert.Equal("all 50 messages between nodes", filter);
    }

    [Fact]
    public void Client_path_and_lost_messages_are_kept_before_anti_entropy_traffic_is_sampled()
    {
        var recorded = new List<MessageRecord>();
        for (int i = 0; i < 1000; i++) recorded.Add(Message(i, MessageKind.LeafEntriesRequest));
        for (int i = 0; i < 30; i++) recorded.Add(Message(2000 + i, MessageKind.ReplicaReadReply));
        for (int i = 0; i < 10; i++) recorded.Add(Message(3000 + i, MessageKind.RepairPush, MessageFate.Cut));
        var (chosen, filter) = TimelineMessages.Choose(recorded, recorded.Count, budget: 100);
        Assert.True(chosen.Count <= 100, $"{chosen.Count} chosen");
        Assert.Equal(30, chosen.Count(m => m.Kind == MessageKind.ReplicaReadReply));
        Assert.Equal(10, chosen.Count(m => m.Fate == MessageFate.Cut));
        Assert.InRange(chosen.Count(m => m.Kind == MessageKind.LeafEntriesRequest), 50, 60);
        Assert.Equal(chosen.OrderBy(m => m.SendMicros).ToList(), chosen);
        Assert.Contains("all 40 client-path or lost ones, 1 in 17 of 1,000 anti-entropy ones", filter);
    }

    [Fact]
    public void Too_many_client_path_messages_are_sampled_too_and_the_filter_says_so()
    {
        var recorded = Enumerable.Range(0, 1000).Select(i => Message(i, MessageKind.ReplicaWrite)).ToList();
        var (chosen, filter) = TimelineMessages.Choose(recorded, recorded.Count + 5, budget: 100);
        Assert.Equal(100, chosen.Count);
        Assert.StartsWith("100 of 1,005 messages between nodes: 1 in 10 of 1,000 client-path or lost ones", filter);
        Assert.EndsWith("(recording stopped after 1,000)", filter);
    }
}

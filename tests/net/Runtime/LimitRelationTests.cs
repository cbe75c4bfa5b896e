using System.Text;
using System.Text.Json;
using Meteora.Engine;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Versioning;
using Meteora.Net.Hosting;
using Meteora.Net.Transport;

namespace Meteora.Tests.Net.Runtime;

/// <summary>
/// The limits of the layers must fit inside each other: the largest value a client may set must fit
/// in an HTTP body, the largest message in a peer frame, the largest frame in a connection's buffer,
/// the peer send queue must hold at least one largest frame, and repair replies in a message.
/// </summary>
public sealed class LimitRelationTests
{
    private static readonly string MaxKey = new('k', Limits.MaxKeySizeBytes);

    [Fact]
    public void A_largest_set_body_fits_the_http_body_limit_even_fully_escaped()
    {
        // Worst case JSON: every value byte as a \u00XX escape (6 characters), plus the key and braces.
        string value = new('\u0001', Limits.MaxValueSizeBytes);
        string body = JsonSerializer.Serialize(new { key = MaxKey, value });
        Assert.True(Encoding.UTF8.GetByteCount(body) <= NodeConfig.MaxRequestBodyBytes,
            $"a fully escaped largest set body is {Encoding.UTF8.GetByteCount(body)} bytes; the HTTP limit is {NodeConfig.MaxRequestBodyBytes}");
    }

    [Fact]
    public void The_largest_messages_fit_a_message_a_frame_and_a_connection_buffer()
    {
        var version = new WriteVersion(long.MaxValue, uint.MaxValue);
        var value = new byte[Limits.MaxValueSizeBytes];
        Message[] largest =
        [
            new ReplicaWrite(long.MaxValue, MaxKey, version, value),
            new ReplicaReadReply(long.MaxValue, true, version, value),
            new ReadRepair(MaxKey, version, value),
            new RepairPush(long.MaxValue, MaxKey, version, value),
        ];
        foreach (Message message in largest)
        {
            int size = MessageCodec.EncodedSize(message);
            Assert.True(size <= Limits.MaxMessageSizeBytes, $"{message.Kind} of {size} bytes exceeds the message limit {Limits.MaxMessageSizeBytes}");
        }
        Assert.True(Limits.MaxMessageSizeBytes <= PeerFrames.MaxPayloadBytes, "a largest message must fit one peer frame");
        Assert.True(PeerFrames.LengthPrefixBytes + PeerFrames.MaxPayloadBytes <= KestrelListeners.MaxConnectionBufferBytes,
            "a largest frame must fit Kestrel's per-connection buffer, or reading it would stall");
        Assert.True(PeerLink.MaxQueuedBytes >= PeerFrames.LengthPrefixBytes + PeerFrames.MaxPayloadBytes,
            "a peer's send queue must hold at least one largest frame");
    }

    [Fact]
    public void A_pull_reply_at_the_largest_budget_fits_a_message()
    {
        // A pull reply adds items while they fit the budget, and always carries its first item: so it is
        // at most header + max(budget, one largest item).
        int budget = Limits.MaxMessageSizeBytes / 2;
        new RepairOptions { ReplyBudgetBytes = budget }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepairOptions { ReplyBudgetBytes = budget + 1 }.Validate());
        var largestItem = new RepairItem(MaxKey, new WriteVersion(1, 1), new byte[Limits.MaxValueSizeBytes]);
        int oneItem = MessageCodec.EncodedSize(new RepairPullReply(1, 1, [largestItem]));
        int header = MessageCodec.EncodedSize(new RepairPullReply(1, 0, []));
        Assert.True(oneItem <= Limits.MaxMessageSizeBytes, $"a pull reply with one largest item is {oneItem} bytes");
        Assert.True(header + budget <= Limits.MaxMessageSizeBytes);
    }

    [Fact]
    public void Engine_queues_fit_inside_the_stores_and_the_event_loop()
    {
        Assert.True(Limits.MaxInFlightStorageOps <= global::Meteora.Net.Storage.RocksDbStorage.MaxPendingOperations,
            "the engine must refuse before the store does");
        Assert.True(Limits.MaxInFlightStorageOps <= global::Meteora.Engine.Storage.InMemoryStorage.MaxPendingOperations);
        var defaults = new RepairOptions();
        Assert.True((long)defaults.MaxConcurrentSessions * (1 + defaults.MaxPushesInFlight) <= Limits.MaxRepairRequestsInFlight);
        Assert.True(defaults.MaxKeysPerPull <= MessageCodec.MaxRepairBatch && defaults.MaxLeavesPerRequest <= MessageCodec.MaxRepairBatch
            && defaults.MaxNodesPerRequest <= MessageCodec.MaxRepairBatch, "repair batches must fit the codec's item limit");
    }
}

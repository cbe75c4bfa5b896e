using System.Text;
using Meteora.Engine.Protocol;

namespace Meteora.Sim;

/// <summary>One-line, human-readable summaries of messages for <c>--trace</c>.</summary>
internal static class TraceFormat
{
    private const int MaxValueChars = 24;

    public static string Describe(Message message) => message switch
    {
        ReplicaWrite m => $"ReplicaWrite #{m.RequestId} {m.Key} v={m.Version} {Value(m.Value)}",
        ReadRepair m => $"ReadRepair {m.Key} v={m.Version} {Value(m.Value)}",
        RepairPush m => $"RepairPush #{m.RequestId} {m.Key} v={m.Version} {Value(m.Value)}",
        RepairPushAck m => $"RepairPushAck #{m.RequestId} {(m.Ok ? "ok" : "FAILED")}",
        ReplicaWriteAck m => $"ReplicaWriteAck #{m.RequestId} {(m.Ok ? "ok" : "FAILED")}",
        ReplicaRead m => $"ReplicaRead #{m.RequestId} {m.Key}",
        ReplicaReadReply m => m.Found ? $"ReplicaReadReply #{m.RequestId} v={m.Version} {Value(m.Value)}" : $"ReplicaReadReply #{m.RequestId} not found",
        MerkleHashesRequest m => $"MerkleHashesRequest #{m.RequestId} p{m.Partition} {m.Nodes.Length} nodes",
        MerkleHashesReply m => $"MerkleHashesReply #{m.RequestId} {(m.Ready ? $"{m.Hashes.Length} hashes" : "not ready")}",
        LeafEntriesRequest m => $"LeafEntriesRequest #{m.RequestId} p{m.Partition} {m.Leaves.Length} leaves",
        LeafEntriesReply m => $"LeafEntriesReply #{m.RequestId} {(m.Ready ? $"{m.LeavesCovered} leaves, {m.Entries.Length} entries" : "not ready")}",
        RepairPullRequest m => $"RepairPullRequest #{m.RequestId} p{m.Partition} {m.Keys.Length} keys",
        RepairPullReply m => $"RepairPullReply #{m.RequestId} {m.KeysCovered} covered, {m.Items.Length} items",
        _ => message.Kind.ToString(),
    };

    private static string Value(byte[]? value)
    {
        if (value is null) return "tombstone";
        string text = Encoding.UTF8.GetString(value);
        return text.Length <= MaxValueChars ? $"\"{text}\"" : $"\"{text[..MaxValueChars]}…\" ({value.Length} bytes)";
    }
}

using Meteora.Engine.Protocol;

namespace Meteora.Sim.Timeline;

/// <summary>What happened to one message on the simulated network.</summary>
public enum MessageFate : byte
{
    Delivered = 1,
    /// <summary>A second copy delivered by a lossy period.</summary>
    Duplicate = 2,
    Dropped = 3,
    /// <summary>Cut by a partition.</summary>
    Cut = 4,
    /// <summary>The target was down: the sender learns it (connection refused).</summary>
    Refused = 5,
}

/// <summary>One message between two nodes; <see cref="ArriveMicros"/> is when it was delivered or its loss became known.</summary>
public readonly record struct MessageRecord(long SendMicros, long ArriveMicros, int From, int To, MessageKind Kind, MessageFate Fate, string? Keys);

/// <summary>One fault period; instantaneous faults (a clock jump) have <see cref="EndMicros"/> equal to the start.</summary>
public sealed class FaultRecord
{
    public required string Kind { get; init; }
    public required string Text { get; init; }
    public required int[] Nodes { get; init; }
    public required long StartMicros { get; init; }
    public long EndMicros { get; set; } = -1;
}

/// <summary>
/// Observes a simulated run for <c>--timeline</c>: every message the network carried (and its fate)
/// and every fault period. It only watches: it draws no randomness and schedules nothing, so a run
/// with a recorder has the same trace hash as one without. Bounded: past
/// <see cref="MaxMessages"/> messages it keeps counting but stops storing.
/// </summary>
public sealed class TimelineRecorder
{
    /// <summary>About 40 bytes each: 2 M messages is tens of MB, far more than a page can draw anyway.</summary>
    public const int MaxMessages = 2_000_000;

    /// <summary>Keys named per multi-key message (a pull request may carry thousands).</summary>
    private const int MaxKeysPerMessage = 8;

    private readonly List<MessageRecord> _messages = [];
    private readonly List<FaultRecord> _faults = [];
    private readonly Dictionary<int, FaultRecord> _openFaults = [];

    /// <summary>(coordinator, request id) → key of the request, so its replies and acks name the key too.</summary>
    private readonly Dictionary<(int Node, long RequestId), string> _requestKeys = [];

    public IReadOnlyList<MessageRecord> Messages => _messages;
    public IReadOnlyList<FaultRecord> Faults => _faults;

    /// <summary>Messages seen, stored or not.</summary>
    public long MessagesSeen { get; private set; }

    public void OnMessage(long sendMicros, long arriveMicros, int from, int to, ReadOnlySpan<byte> frame, MessageFate fate)
    {
        MessagesSeen++;
        if (_messages.Count >= MaxMessages) return;
        Message message = MessageCodec.Decode(frame);
        _messages.Add(new MessageRecord(sendMicros, arriveMicros, from, to, message.Kind, fate, KeysOf(from, to, message)));
    }

    /// <summary>
    /// The keys a message carries. Replies and acks carry none of their own: they get the key of the
    /// request they answer (request ids are unique per coordinator). Multi-key messages name their first few keys.
    /// </summary>
    private string? KeysOf(int from, int to, Message message) => message switch
    {
        ReplicaWrite m => Request(from, m.RequestId, m.Key),
        ReplicaRead m => Request(from, m.RequestId, m.Key),
        RepairPush m => Request(from, m.RequestId, m.Key),
        ReplicaWriteAck m => _requestKeys.GetValueOrDefault((to, m.RequestId)),
        ReplicaReadReply m => _requestKeys.GetValueOrDefault((to, m.RequestId)),
        RepairPushAck m => _requestKeys.GetValueOrDefault((to, m.RequestId)),
        ReadRepair m => m.Key,
        RepairPullRequest m => Join(m.Keys.Length, i => m.Keys[i]),
        RepairPullReply m => Join(m.Items.Length, i => m.Items[i].Key),
        LeafEntriesReply m => Join(m.Entries.Length, i => m.Entries[i].Key),
        _ => null,
    };

    private string Request(int coordinator, long requestId, string key)
    {
        _requestKeys[(coordinator, requestId)] = key;
        return key;
    }

    private static string? Join(int count, Func<int, string> key)
    {
        if (count == 0) return null;
        int shown = Math.Min(count, MaxKeysPerMessage);
        var keys = new string[shown];
        for (int i = 0; i < shown; i++) keys[i] = key(i);
        // A NUL cannot appear inside a key the workload writes, so it separates them unambiguously.
        return string.Join('\0', keys);
    }

    public void OnFaultStart(int index, string kind, Fault fault, IReadOnlyList<int> nodes, long nowMicros, bool instant)
    {
        var record = new FaultRecord { Kind = kind, Text = fault.ToString(), Nodes = [.. nodes], StartMicros = nowMicros };
        _faults.Add(record);
        if (instant) record.EndMicros = nowMicros;
        else _openFaults[index] = record;
    }

    public void OnFaultEnd(int index, long nowMicros)
    {
        if (_openFaults.Remove(index, out FaultRecord? record)) record.EndMicros = nowMicros;
    }

    /// <summary>The nemesis healed everything: every open period ends now.</summary>
    public void OnHealAll(long nowMicros)
    {
        foreach (FaultRecord record in _openFaults.Values) record.EndMicros = nowMicros;
        _openFaults.Clear();
    }
}

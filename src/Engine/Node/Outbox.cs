using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;

namespace Meteora.Engine.Node;

/// <summary>
/// Where every room's outgoing messages go. A message to a peer goes to the transport; a message to
/// this node itself goes to a local queue that the node runs after the current input, like any other
/// message, so rooms never call each other re-entrantly. Buggify can hold a message back for a while
/// (a delayed send is a timer of its own).
/// </summary>
internal sealed class Outbox
{
    private readonly int _nodeId;
    private readonly ITransport _transport;
    private readonly IScheduler _scheduler;
    private readonly ILocalMessageTap? _tap;
    private readonly Queue<Message> _local = new();
    private readonly Dictionary<long, (int To, Message Message)> _delayed = new();
    private long _nextDelayId;
    private int _localThisEvent;

    public Outbox(int nodeId, ITransport transport, IScheduler scheduler, ILocalMessageTap? tap)
    {
        _nodeId = nodeId;
        _transport = transport;
        _scheduler = scheduler;
        _tap = tap;
    }

    public void Send(int toNode, Message message)
    {
        if (toNode != _nodeId)
        {
            _transport.Send(toNode, message);
            return;
        }
        if (++_localThisEvent > Limits.MaxLocalMessagesPerEvent) ThrowLooping(_nodeId);
        _tap?.OnLocalMessage(_nodeId, message);
        _local.Enqueue(message);

        // The message in its own method: its builder's locals cost every send a larger frame (issue 11).
        static void ThrowLooping(int nodeId) => throw new InvalidOperationException($"node {nodeId} sent itself over {Limits.MaxLocalMessagesPerEvent} messages in one event; something loops");
    }

    /// <summary>Sends after <paramref name="delayMicros"/> (buggify); at once when too many are held back already.</summary>
    public void SendLater(int toNode, Message message, long delayMicros)
    {
        if (_delayed.Count >= Limits.MaxDelayedSends)
        {
            Send(toNode, message);
            return;
        }
        long id = ++_nextDelayId;
        _delayed.Add(id, (toNode, message));
        _scheduler.StartTimer(new TimerId(TimerOwner.DelayedSend, id), delayMicros);
    }

    public void OnDelayTimer(long id)
    {
        if (_delayed.Remove(id, out var held)) Send(held.To, held.Message);
    }

    /// <summary>The next message this node sent itself, if any.</summary>
    public bool TryTakeLocal(out Message message) => _local.TryDequeue(out message!);

    /// <summary>Called by the node when an input has been handled completely.</summary>
    public void EndEvent()
    {
        if (_local.Count != 0) ThrowUndelivered(_local.Count);
        _localThisEvent = 0;

        // Messages in their own methods: their builders' locals cost every event a larger frame (issue 11).
        static void ThrowUndelivered(int local) => throw new InvalidOperationException($"event ended with {local} local messages undelivered");
    }

    public void CheckInvariants()
    {
        if (_delayed.Count > Limits.MaxDelayedSends) ThrowTooMany(_delayed.Count);

        static void ThrowTooMany(int delayed) => throw new InvalidOperationException($"{delayed} delayed sends exceed the limit {Limits.MaxDelayedSends}");
    }
}

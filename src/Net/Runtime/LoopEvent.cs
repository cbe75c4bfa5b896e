using Meteora.Engine.Node;
using Meteora.Engine.Protocol;

namespace Meteora.Net.Runtime;

/// <summary>An input for the node, run on its event loop thread (the only thread that touches the node).</summary>
public abstract class LoopEvent
{
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of creation (events are posted as soon as they are made), for the queue-wait histogram.</summary>
    internal readonly long PostedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();

    public abstract void Run(MeteoraNode node);

    /// <summary>Called instead of <see cref="Run"/> when the loop has stopped or the event threw.</summary>
    public virtual void Abandon(Exception reason)
    {
    }
}

public sealed class PeerMessageEvent(int fromNode, Message message) : LoopEvent
{
    public override void Run(MeteoraNode node) => node.OnMessage(fromNode, message);
}

public sealed class SendFailedEvent(int toNode, Message message) : LoopEvent
{
    public override void Run(MeteoraNode node) => node.OnSendFailed(toNode, message);
}

/// <summary>Every completion of one WAL sync, in submission order: one loop event per fsync, not per write.</summary>
public sealed class StorageCompletedEvent(StorageCompletion[] completions) : LoopEvent
{
    public override void Run(MeteoraNode node)
    {
        foreach (StorageCompletion completion in completions) node.OnStorageCompleted(completion.Token, completion.Durable);
    }
}

public readonly record struct StorageCompletion(long Token, bool Durable);

/// <summary>Runs a function of the node on the loop and hands its result back to an async caller.</summary>
public sealed class LoopCallEvent<T>(Func<MeteoraNode, T> call) : LoopEvent
{
    private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Result => _result.Task;

    public override void Run(MeteoraNode node) => _result.TrySetResult(call(node));

    public override void Abandon(Exception reason) => _result.TrySetException(reason);
}

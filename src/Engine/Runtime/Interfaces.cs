namespace Meteora.Engine.Runtime;

/// <summary>The node's clock. The simulator gives virtual time (with skew); real mode the system clock.</summary>
public interface IClock
{
    /// <summary>Microseconds since an epoch fixed for the whole cluster (Unix epoch in real mode).</summary>
    long NowMicros { get; }
}

/// <summary>
/// Timers on the node's own event loop. When a timer fires, the host calls
/// <see cref="Node.MeteoraNode.OnTimer"/> with its id. Delays are in microseconds, the unit of
/// <see cref="IClock"/>: the engine's interfaces use one time unit.
/// </summary>
public interface IScheduler
{
    void StartTimer(TimerId timer, long delayMicros);
}

/// <summary>
/// Sends a message to a peer (never to the sending node itself: the engine delivers those through its
/// own local queue). Fire-and-forget: delivery may fail; the engine relies on timeouts.
/// </summary>
public interface ITransport
{
    void Send(int toNode, Protocol.Message message);
}

/// <summary>Seeded randomness (simulator) or a real random source (real mode).</summary>
public interface IRandom
{
    ulong NextUInt64();

    /// <summary>Uniform in [0, maxExclusive).</summary>
    int NextInt(int maxExclusive);
}

/// <summary>Receives the answer to a client request the node coordinated.</summary>
public interface IClientResponder
{
    void Respond(Node.ClientResult result);
}

/// <summary>
/// Sees every message a node sends itself (those never reach <see cref="ITransport"/>). The simulator
/// uses it so its oracles check local acks too; real mode passes none.
/// </summary>
public interface ILocalMessageTap
{
    void OnLocalMessage(int node, Protocol.Message message);
}

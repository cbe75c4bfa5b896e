using Meteora.Engine.Protocol;

namespace Meteora.Net.Transport;

/// <summary>
/// Learns of messages the transport knows were never sent (peer down, connection refused, send queue
/// full, or still queued when the connection dropped). Must not block and must not call into the
/// engine synchronously: the event loop defers the call until the current event has returned.
/// </summary>
public interface ISendFailureSink
{
    void OnSendFailed(int toNode, Message message);
}

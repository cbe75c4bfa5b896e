using System.Buffers;
using System.IO.Pipelines;
using Meteora.Engine.Protocol;
using Meteora.Net.Runtime;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>
/// Kestrel handler of the peer port. A connection starts with a handshake naming its sender; then each
/// frame is decoded and posted to the event loop (awaiting when the loop is saturated, which
/// back-pressures the sender through TCP). Any malformed input (bad handshake, oversized or empty frame,
/// undecodable message, truncated stream) closes that connection with one log line; the node keeps serving.
/// </summary>
public sealed class PeerConnectionHandler(PeerInboundContext context, ILogger<PeerConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>A connection must identify itself within this time or it is closed.</summary>
    public const int HandshakeTimeoutMs = 5_000;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        int? fromNode = null;
        // Kestrel's graceful shutdown waits for handlers; peers never close first, so we stop on our own signal.
        using var open = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, context.Stopping);
        using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(open.Token);
        handshakeTimeout.CancelAfter(HandshakeTimeoutMs);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(fromNode is null ? handshakeTimeout.Token : open.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    while (PeerFrames.TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload))
                    {
                        if (fromNode is null)
                        {
                            fromNode = AcceptHandshake(payload);
                            logger.LogDebug("peer {Peer} connected from {Remote}", fromNode, connection.RemoteEndPoint);
                            continue;
                        }
                        Message message = Decode(payload);
                        context.Stats.Received(fromNode.Value, payload.Length);
                        await context.Loop.PostAsync(new PeerMessageEvent(fromNode.Value, message), open.Token).ConfigureAwait(false);
                    }
                    if (result.IsCompleted)
                    {
                        if (!buffer.IsEmpty) throw new PeerFrameException($"stream ended inside a frame ({buffer.Length} bytes left over)");
                        break;
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
        catch (Exception e) when (e is PeerFrameException or ProtocolException)
        {
            context.Stats.Rejected();
            logger.LogWarning("closing peer connection from {Remote} (node {Node}): {Reason}",
                connection.RemoteEndPoint, fromNode?.ToString() ?? "unidentified", e.Message);
        }
        catch (OperationCanceledException) when (fromNode is null && !open.IsCancellationRequested)
        {
            context.Stats.Rejected();
            logger.LogWarning("closing peer connection from {Remote}: no handshake within {TimeoutMs} ms", connection.RemoteEndPoint, HandshakeTimeoutMs);
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException)
        {
            // The peer went away; its link will reconnect.
        }
        finally
        {
            connection.Abort();
        }
    }

    private int AcceptHandshake(ReadOnlySequence<byte> payload)
    {
        Span<byte> bytes = stackalloc byte[PeerFrames.HandshakePayloadBytes];
        if (payload.Length != PeerFrames.HandshakePayloadBytes)
        {
            throw new PeerFrameException($"handshake is {payload.Length} bytes, expected {PeerFrames.HandshakePayloadBytes}");
        }
        payload.CopyTo(bytes);
        Handshake handshake = PeerFrames.DecodeHandshake(bytes);
        if (handshake.ToNode != context.LocalNodeId)
        {
            throw new PeerFrameException($"handshake is addressed to node {handshake.ToNode}, this is node {context.LocalNodeId}");
        }
        if (handshake.FromNode == context.LocalNodeId || !context.IsMember(handshake.FromNode))
        {
            throw new PeerFrameException($"node {handshake.FromNode} is not a peer of this ring");
        }
        if (handshake.PartitionCount != context.PartitionCount)
        {
            throw new PeerFrameException($"peer uses {handshake.PartitionCount} partitions, this node {context.PartitionCount}");
        }
        context.Stats.Accepted();
        return handshake.FromNode;
    }

    private static Message Decode(ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment) return MessageCodec.Decode(payload.FirstSpan);
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return MessageCodec.Decode(rented.AsSpan(0, (int)payload.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>What the peer port's handler needs from the node, registered as a singleton.</summary>
public sealed class PeerInboundContext(EventLoop loop, int localNodeId, int partitionCount, Func<int, bool> isMember)
{
    public EventLoop Loop { get; } = loop;
    public int LocalNodeId { get; } = localNodeId;
    public int PartitionCount { get; } = partitionCount;
    public PeerInboundStats Stats { get; } = new();

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the node begins shutting down: inbound peer connections close.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Stop() => _stopping.Cancel();

    public bool IsMember(int node) => isMember(node);
}

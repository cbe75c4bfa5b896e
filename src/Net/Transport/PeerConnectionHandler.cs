using System.Buffers;
using System.IO.Pipelines;
using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Net.Runtime;
using Meteora.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

/// <summary>
/// Kestrel handler of the peer port (behind TLS when configured). A connection first runs the
/// listener's side of <see cref="PeerHandshake"/>; nothing it sends is decoded as a message before the
/// peer has proven it holds the cluster secret (any node id that proves it is accepted: a joining node
/// is not in the ring yet). A join probe (<see cref="PeerHandshake.AnyNode"/>) gets its
/// <see cref="PeerProbe"/> reply and is closed. Otherwise each frame is decoded and posted to the event loop
/// (awaiting when the loop is saturated, which back-pressures the sender through TCP). Any malformed
/// input or failed proof closes that connection, is counted, and is logged (rate-limited); the node
/// keeps serving.
/// </summary>
public sealed class PeerConnectionHandler(PeerInboundContext context, ILogger<PeerConnectionHandler> logger) : ConnectionHandler
{
    private readonly RateLimitedLog _rejections = new(logger, RateLimitedLog.DefaultIntervalMs);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        int? fromNode = null;
        // Kestrel's graceful shutdown waits for handlers; peers never close first, so we stop on our own signal.
        using var open = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, context.Stopping);
        try
        {
            using (var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(open.Token))
            {
                handshakeTimeout.CancelAfter(PeerHandshake.TimeoutMs);
                (fromNode, bool probe) = await HandshakeAsync(connection, handshakeTimeout.Token).ConfigureAwait(false);
                if (probe) return;
            }
            logger.LogDebug("peer {Peer} connected from {Remote}", fromNode, connection.RemoteEndPoint);
            context.PeerConnected(fromNode.Value);
            await ReadMessagesAsync(connection.Transport.Input, fromNode.Value, open.Token).ConfigureAwait(false);
        }
        catch (PeerAuthenticationException e)
        {
            context.Stats.AuthenticationFailed();
            _rejections.Warn($"refusing peer connection from {connection.RemoteEndPoint}: {e.Message}");
        }
        catch (Exception e) when (e is PeerFrameException or ProtocolException)
        {
            context.Stats.Rejected();
            _rejections.Warn($"closing peer connection from {connection.RemoteEndPoint} (node {fromNode?.ToString() ?? "unidentified"}): {e.Message}");
        }
        catch (OperationCanceledException) when (fromNode is null && !open.IsCancellationRequested)
        {
            context.Stats.Rejected();
            _rejections.Warn($"closing peer connection from {connection.RemoteEndPoint}: no handshake within {PeerHandshake.TimeoutMs} ms");
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

    /// <summary>The listener's side: hello in, challenge out, proof in, accept out (then a probe's reply). Returns the proven sender id.</summary>
    private async Task<(int FromNode, bool Probe)> HandshakeAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        byte[] hello = await ReadFrameAsync(input, PeerHandshake.HelloBytes, cancellationToken).ConfigureAwait(false);
        PeerHandshake.Hello decoded = PeerHandshake.DecodeHello(hello);
        int fromNode = CheckHello(decoded);
        bool probe = decoded.ToNode == PeerHandshake.AnyNode;
        byte[] nonce = PeerHandshake.NewNonce();
        await output.WriteAsync(PeerHandshake.Frame(PeerHandshake.EncodeChallenge(context.Secret.Key, hello, nonce)), cancellationToken).ConfigureAwait(false);
        byte[] proof;
        try
        {
            proof = await ReadFrameAsync(input, PeerHandshake.ProofBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (PeerFrameException e)
        {
            // A dialer with another secret rejects our challenge and hangs up here: that is a failed authentication.
            throw new PeerAuthenticationException($"the peer did not prove the cluster secret ({e.Message})");
        }
        PeerHandshake.VerifyDialerProof(context.Secret.Key, hello, nonce, proof);
        await output.WriteAsync(PeerHandshake.Frame(PeerHandshake.EncodeAccept()), cancellationToken).ConfigureAwait(false);
        context.Stats.Accepted();
        if (probe)
        {
            PeerProbe reply = PeerProbe.Describe(context.LocalNodeId, context.PartitionCount, context.ReplicationFactor, context.Ring(), fromNode);
            await output.WriteAsync(PeerHandshake.Frame(reply.Encode(context.Secret.Key, hello, nonce)), cancellationToken).ConfigureAwait(false);
            // The dialer hangs up once it has the reply; aborting first could reset the connection before the reply left.
            await WaitForCloseAsync(input, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("answered a join probe from node {Peer} at {Remote}", fromNode, connection.RemoteEndPoint);
        }
        return (fromNode, probe);
    }

    private int CheckHello(PeerHandshake.Hello hello)
    {
        bool probe = hello.ToNode == PeerHandshake.AnyNode;
        if (hello.ToNode != context.LocalNodeId && !probe)
        {
            throw new PeerFrameException($"handshake is addressed to node {hello.ToNode}, this is node {context.LocalNodeId}");
        }
        // A probe may carry this node's own id: its reply then tells the dialer that id is taken.
        if ((hello.FromNode == context.LocalNodeId && !probe) || hello.FromNode < 0)
        {
            throw new PeerFrameException($"node {hello.FromNode} cannot be a peer of node {context.LocalNodeId}");
        }
        // A probe carries no messages: it may use another Q, and its reply tells the dialer so in one clear line.
        if (hello.PartitionCount != context.PartitionCount && !probe)
        {
            throw new PeerFrameException($"peer uses {hello.PartitionCount} partitions, this node {context.PartitionCount}");
        }
        return hello.FromNode;
    }

    /// <summary>Discards input until the peer closes its side (bounded by the handshake timeout).</summary>
    private static async Task WaitForCloseAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled) return;
        }
    }

    /// <summary>Reads one handshake frame whose payload must be exactly <paramref name="payloadBytes"/> long.</summary>
    private static async Task<byte[]> ReadFrameAsync(PipeReader input, int payloadBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (PeerFrames.TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload))
            {
                if (payload.Length != payloadBytes) throw new PeerFrameException($"handshake frame is {payload.Length} bytes, expected {payloadBytes}");
                byte[] bytes = payload.ToArray();
                input.AdvanceTo(buffer.Start);
                return bytes;
            }
            if (result.IsCompleted) throw new PeerFrameException($"stream ended during the handshake ({buffer.Length} bytes of a frame)");
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task ReadMessagesAsync(PipeReader input, int fromNode, CancellationToken cancellationToken)
    {
        // This connection's own: frames are read one at a time here, and a peer keeps naming the same hot keys.
        var keys = new KeyInterner();
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (PeerFrames.TryReadFrame(ref buffer, out ReadOnlySequence<byte> payload))
                {
                    Message message = Decode(payload, keys);
                    context.Stats.Received(fromNode, payload.Length);
                    if (message is RingChangeRequest { Change: RingChangeKind.Join } join && join.Node == fromNode)
                    {
                        // A joiner is in no ring yet: learn where it listens, so replies (a refusal too) reach it.
                        context.JoinerAnnounced(fromNode, join.PeerAddress);
                    }
                    await context.Loop.PostAsync(new PeerMessageEvent(fromNode, message), cancellationToken).ConfigureAwait(false);
                }
                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty) throw new PeerFrameException($"stream ended inside a frame ({buffer.Length} bytes left over)");
                    return;
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private static Message Decode(ReadOnlySequence<byte> payload, KeyInterner keys)
    {
        if (payload.IsSingleSegment) return MessageCodec.Decode(payload.FirstSpan, keys);
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return MessageCodec.Decode(rented.AsSpan(0, (int)payload.Length), keys);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>What the peer port's handler needs from the node, registered as a singleton.</summary>
public sealed class PeerInboundContext(EventLoop loop, int localNodeId, int partitionCount, int replicationFactor, Func<RingState?> ring,
    ClusterSecret secret, Action<int, string>? joinerAnnounced = null, Action<int>? peerConnected = null)
{
    public EventLoop Loop { get; } = loop;
    public int LocalNodeId { get; } = localNodeId;
    public int PartitionCount { get; } = partitionCount;
    public int ReplicationFactor { get; } = replicationFactor;
    public ClusterSecret Secret { get; } = secret;
    public PeerInboundStats Stats { get; } = new();

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the node begins shutting down: inbound peer connections close.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Stop() => _stopping.Cancel();

    /// <summary>The ring this node holds now (null while a joiner has none), for join probes.</summary>
    public RingState? Ring() => ring();

    public void JoinerAnnounced(int node, string peerAddress) => joinerAnnounced?.Invoke(node, peerAddress);

    /// <summary>A peer proved itself on an inbound connection (the transport redials it at once if its link was backing off).</summary>
    public void PeerConnected(int node) => peerConnected?.Invoke(node);
}

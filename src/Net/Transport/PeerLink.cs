using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Meteora.Engine.Protocol;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Transport;

public enum PeerLinkState
{
    /// <summary>First connection attempt in progress: messages queue up.</summary>
    Connecting,
    /// <summary>Connected: messages queue up and are written in batches.</summary>
    Up,
    /// <summary>Disconnected, retrying with backoff: messages are dropped at once (the engine's timeouts take over).</summary>
    Down,
}

/// <summary>
/// The outbound connection to one peer: a bounded queue of encoded frames and a pump that writes them
/// to a socket, reconnecting with exponential backoff. <see cref="TrySend"/> never blocks: when the peer
/// is down or the queue is full the message is dropped and the caller learns it (false). Frames still
/// queued when a connection fails were never written: they are dropped and reported through the
/// <c>dropped</c> callback (from the link's own task), so the engine can count the peer as failed for them.
/// </summary>
public sealed class PeerLink : IAsyncDisposable
{
    public const int MaxQueuedFrames = 16_384;
    public const long MaxQueuedBytes = 64L * 1024 * 1024;
    public const int InitialBackoffMs = 50;
    public const int MaxBackoffMs = 2_000;
    public const int WriteBufferBytes = 64 * 1024;

    private readonly PeerEndpoint _endpoint;
    private readonly PeerDialer _dialer;
    private readonly ILogger _logger;
    private readonly Action<int, Message>? _dropped;
    private readonly Channel<OutboundFrame> _queue = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,
    });
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private volatile PeerLinkState _state = PeerLinkState.Connecting;

    /// <summary>Cancels the backoff wait under way (null: none): <see cref="RetryNow"/>.</summary>
    private volatile CancellationTokenSource? _backoff;

    /// <summary>Backoff waits cut short by <see cref="RetryNow"/>.</summary>
    public long RetriesNudged => Interlocked.Read(ref _retriesNudged);

    private long _retriesNudged;

    /// <summary>
    /// The peer just proved itself on an inbound connection, so it is back: a link waiting out its backoff
    /// dials at once instead of up to <see cref="MaxBackoffMs"/> later (a restarted node's requests and hint
    /// replays need links in both directions). Does nothing while connected or dialing.
    /// </summary>
    public void RetryNow()
    {
        if (_backoff is not { } waiting) return;
        try
        {
            waiting.Cancel();
            Interlocked.Increment(ref _retriesNudged);
        }
        catch (ObjectDisposedException)
        {
            // The wait ended meanwhile: the link is dialing already.
        }
    }
    private int _queuedFrames;
    private long _queuedBytes;
    private long _sentFrames;
    private long _sentBytes;
    private long _droppedFrames;
    private long _droppedBytes;
    private long _connects;
    private long _stateChangedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public PeerLink(PeerDialer dialer, ILogger logger, Action<int, Message>? dropped = null)
    {
        _dialer = dialer ?? throw new ArgumentNullException(nameof(dialer));
        _endpoint = dialer.Endpoint;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _dropped = dropped;
    }

    public PeerEndpoint Endpoint => _endpoint;
    public PeerLinkState State => _state;
    public long SentFrames => Interlocked.Read(ref _sentFrames);
    public long SentBytes => Interlocked.Read(ref _sentBytes);
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);
    public long DroppedBytes => Interlocked.Read(ref _droppedBytes);
    public long Connects => Interlocked.Read(ref _connects);
    public int QueuedFrames => Volatile.Read(ref _queuedFrames);
    public long StateChangedUnixMs => Interlocked.Read(ref _stateChangedUnixMs);

    public void Start()
    {
        if (_run is not null) throw new InvalidOperationException("peer link already started");
        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Encodes and queues <paramref name="message"/>; false if it was dropped. Never blocks.</summary>
    public bool TrySend(Message message)
    {
        int payloadBytes = MessageCodec.EncodedSize(message);
        int frameBytes = PeerFrames.LengthPrefixBytes + payloadBytes;
        if (_state == PeerLinkState.Down
            || Volatile.Read(ref _queuedFrames) >= MaxQueuedFrames
            || Interlocked.Read(ref _queuedBytes) + frameBytes > MaxQueuedBytes)
        {
            Interlocked.Increment(ref _droppedFrames);
            Interlocked.Add(ref _droppedBytes, frameBytes);
            return false;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(frameBytes);
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)payloadBytes);
        MessageCodec.Encode(message, payloadBytes, buffer.AsSpan(PeerFrames.LengthPrefixBytes)); // sized once, above
        Interlocked.Increment(ref _queuedFrames);
        Interlocked.Add(ref _queuedBytes, frameBytes);
        var frame = new OutboundFrame(buffer, frameBytes, message);
        if (!_queue.Writer.TryWrite(frame))
        {
            Release(frame);
            Interlocked.Increment(ref _droppedFrames);
            Interlocked.Add(ref _droppedBytes, frameBytes);
            return false;
        }
        return true;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        int backoffMs = InitialBackoffMs;
        bool loggedDown = false;
        while (!stop.IsCancellationRequested)
        {
            Stream? stream = null;
            try
            {
                stream = await _dialer.ConnectAsync(stop).ConfigureAwait(false);
                SetState(PeerLinkState.Up);
                Interlocked.Increment(ref _connects);
                _logger.LogInformation("connected to peer {Peer}", _endpoint);
                loggedDown = false;
                backoffMs = InitialBackoffMs;
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(stop);
                Task watch = WatchForCloseAsync(stream, connection);
                try
                {
                    await PumpAsync(stream, connection.Token).ConfigureAwait(false);
                }
                finally
                {
                    await connection.CancelAsync().ConfigureAwait(false);
                    await stream.DisposeAsync().ConfigureAwait(false);
                    await watch.ConfigureAwait(false);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (_state == PeerLinkState.Up) _logger.LogWarning("lost connection to peer {Peer}: {Reason}", _endpoint, Describe(e));
                else if (!loggedDown) _logger.LogInformation("peer {Peer} unreachable, retrying with backoff: {Reason}", _endpoint, Describe(e));
                loggedDown = true;
            }
            finally
            {
                if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            }
            if (stop.IsCancellationRequested) break;
            SetState(PeerLinkState.Down);
            DropQueued();
            using (var backoff = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                _backoff = backoff;
                try
                {
                    await Task.Delay(backoffMs + Random.Shared.Next(backoffMs / 2 + 1), backoff.Token).ConfigureAwait(false);
                    backoffMs = Math.Min(backoffMs * 2, MaxBackoffMs);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    backoffMs = InitialBackoffMs; // nudged: the peer is back
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                finally
                {
                    _backoff = null;
                }
            }
        }
        SetState(PeerLinkState.Down);
        DropQueued();
    }

    /// <summary>Writes queued frames through a buffer and flushes whenever the queue runs dry, so bursts share syscalls.</summary>
    private async Task PumpAsync(Stream stream, CancellationToken cancellationToken)
    {
        await using var buffered = new BufferedStream(stream, WriteBufferBytes);
        ChannelReader<OutboundFrame> reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out OutboundFrame frame))
            {
                try
                {
                    await buffered.WriteAsync(frame.Buffer.AsMemory(0, frame.Length), cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _sentFrames);
                    Interlocked.Add(ref _sentBytes, frame.Length);
                }
                finally
                {
                    Release(frame);
                }
            }
            await buffered.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The peer never writes on this connection, so any read completion means it closed (or died).</summary>
    private static async Task WatchForCloseAsync(Stream stream, CancellationTokenSource connection)
    {
        var buffer = new byte[1];
        try
        {
            await stream.ReadAsync(buffer, connection.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
        }
        try
        {
            await connection.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void SetState(PeerLinkState state)
    {
        if (_state == state) return;
        _state = state;
        Interlocked.Exchange(ref _stateChangedUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    private void DropQueued()
    {
        while (_queue.Reader.TryRead(out OutboundFrame frame))
        {
            Release(frame);
            Interlocked.Increment(ref _droppedFrames);
            Interlocked.Add(ref _droppedBytes, frame.Length);
            _dropped?.Invoke(_endpoint.NodeId, frame.Message);
        }
    }

    private void Release(OutboundFrame frame)
    {
        Interlocked.Decrement(ref _queuedFrames);
        Interlocked.Add(ref _queuedBytes, -frame.Length);
        ArrayPool<byte>.Shared.Return(frame.Buffer);
    }

    private static string Describe(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        IOException { InnerException: SocketException s } => s.SocketErrorCode.ToString(),
        PeerAuthenticationException or PeerFrameException => e.Message,
        EndOfStreamException => "the peer closed the connection during the handshake (wrong cluster secret, or not a peer of its ring)",
        System.Security.Authentication.AuthenticationException => $"TLS: {e.Message}",
        OperationCanceledException => "timed out or closed by peer",
        _ => e.Message,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null) await _run.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>An encoded frame and the message it carries (kept to report it if it is dropped unsent).</summary>
    private readonly record struct OutboundFrame(byte[] Buffer, int Length, Message Message);
}

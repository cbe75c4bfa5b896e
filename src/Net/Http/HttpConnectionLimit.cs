using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Meteora.Net.Http;

/// <summary>
/// Caps open HTTP connections. Kestrel's own limit drops extra connections silently; this answers each
/// one with a plain 503 JSON error and <c>Connection: close</c>, so a client learns why. It runs after
/// TLS, so the answer is readable over HTTPS too.
/// </summary>
public sealed class HttpConnectionLimit
{
    /// <summary>How long a refused connection may take to send its request head before we answer anyway.</summary>
    public const int RefusalReadTimeoutMs = 1_000;

    /// <summary>Request bytes read (and ignored) from a refused connection before answering.</summary>
    public const int RefusalReadMaxBytes = 16 * 1024;

    private readonly int _maxConnections;
    private readonly byte[] _refusal;
    private int _open;
    private long _refused;

    public HttpConnectionLimit(int maxConnections)
    {
        if (maxConnections < 1) throw new ArgumentOutOfRangeException(nameof(maxConnections), maxConnections, "the HTTP connection limit must be positive");
        _maxConnections = maxConnections;
        string body = $"{{\"error\":\"node busy: {maxConnections} HTTP connections are open, the limit (--max-http-connections); retry later\"}}";
        _refusal = Encoding.UTF8.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
            + $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}");
    }

    public int Open => Volatile.Read(ref _open);
    public long Refused => Interlocked.Read(ref _refused);
    public int MaxConnections => _maxConnections;

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        try
        {
            if (Interlocked.Increment(ref _open) > _maxConnections)
            {
                Interlocked.Increment(ref _refused);
                await RefuseAsync(connection).ConfigureAwait(false);
                return;
            }
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };

    private async Task RefuseAsync(ConnectionContext connection)
    {
        await DrainRequestHeadAsync(connection).ConfigureAwait(false);
        try
        {
            await connection.Transport.Output.WriteAsync(_refusal).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone already.
        }
    }

    /// <summary>Reads the request head first: closing with unread input would reset the connection and lose our answer.</summary>
    private static async Task DrainRequestHeadAsync(ConnectionContext connection)
    {
        using var timeout = new CancellationTokenSource(RefusalReadTimeoutMs);
        long seen = 0;
        try
        {
            while (seen < RefusalReadMaxBytes)
            {
                var result = await connection.Transport.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool headEnds = EndsHead(buffer);
                seen = buffer.Length;
                connection.Transport.Input.AdvanceTo(buffer.Start, buffer.End);
                if (headEnds || result.IsCompleted) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
        }
    }

    private static bool EndsHead(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8);
    }
}

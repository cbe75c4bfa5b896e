using Meteora.Engine.Node;
using Meteora.Net.Runtime;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Membership;

/// <summary>What the host watches of the node's membership, read on the event loop every poll.</summary>
public sealed record MembershipFigures(bool Departed, string? JoinRefused, int PartitionsHeld, int StreamingSessions, long WritesNotServed, long PartitionsDropped)
{
    public static MembershipFigures Of(MeteoraNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new MembershipFigures(node.Departed, node.JoinRefused, node.PartitionsHeld, node.StreamingSessions, node.WritesNotServed, node.PartitionsDropped);
    }
}

/// <summary>
/// Polls the node on its event loop every <see cref="PollIntervalMs"/>: a node that has left the ring and
/// dropped its data stops with exit 0; a node whose join the cluster refused stops with exit 2 and the
/// reason. Keeps the latest figures for metrics and status pages (read without waiting for the loop),
/// and runs <c>housekeeping</c> (forgetting links of long-departed nodes) after each poll.
/// </summary>
public sealed class MembershipWatcher(EventLoop loop, ILogger logger, Action<int, string> stop, Action? housekeeping = null) : IAsyncDisposable
{
    public const int PollIntervalMs = 200;

    /// <summary>A poll the loop does not answer in this time is skipped (a busy loop is not a departure).</summary>
    public const int PollTimeoutMs = 5_000;

    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private volatile MembershipFigures? _latest;

    /// <summary>The figures of the last poll the loop answered; null before the first.</summary>
    public MembershipFigures? Latest => _latest;

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollIntervalMs, cancellationToken).ConfigureAwait(false);
                MembershipFigures figures = await loop.CallAsync(MembershipFigures.Of, cancellationToken)
                    .WaitAsync(TimeSpan.FromMilliseconds(PollTimeoutMs), cancellationToken).ConfigureAwait(false);
                _latest = figures;
                housekeeping?.Invoke();
                if (figures.Departed)
                {
                    logger.LogInformation("this node has left the ring and handed off all its data; stopping (exit 0)");
                    stop(Cli.MeteoraCli.ExitOk, "departed");
                    return;
                }
                if (figures.JoinRefused is { } reason)
                {
                    logger.LogCritical("the cluster refused this node's join: {Reason}", reason);
                    stop(Cli.MeteoraCli.ExitUsage, reason);
                    return;
                }
            }
            catch (TimeoutException)
            {
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private int _disposed;

    /// <summary>Stops polling; may be called more than once (a test stops it early, the runtime again at its stop).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null) await _run.ConfigureAwait(false);
        _stop.Dispose();
    }
}

using System.Diagnostics;
using System.Threading.Channels;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Runtime;
using Meteora.Net.Storage;
using Meteora.Net.Transport;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Runtime;

/// <summary>
/// The node's single event loop: one dedicated thread drains a bounded channel of <see cref="LoopEvent"/>s
/// and runs the engine's timers, so every call into <see cref="MeteoraNode"/> happens on this thread.
/// Producers (HTTP handlers, peer connections, the storage I/O thread) wait when the channel is full,
/// which pushes back on clients and on peers' TCP streams instead of growing memory without bound.
/// <para>
/// An exception from the engine is fail-stop: the node's state can no longer be trusted, so the loop
/// logs it, stops running events (abandoning the rest) and raises <see cref="Faulted"/>; the host then
/// exits non-zero. The engine's invariant checks run after every turn of the loop.
/// </para>
/// </summary>
public sealed class EventLoop : IScheduler, IStorageCompletionSink, ISendFailureSink, IDisposable
{
    /// <summary>Events queued before producers must wait.</summary>
    public const int MaxQueuedEvents = 65_536;

    /// <summary>Events run before the loop looks at its timers again, so a flood cannot starve timeouts.</summary>
    private const int MaxEventsPerTurn = 1024;

    /// <summary>Storage completions carried by one event, so one huge sync cannot make one long event.</summary>
    private const int MaxCompletionsPerEvent = 4096;

    private readonly Channel<LoopEvent> _events = Channel.CreateBounded<LoopEvent>(new BoundedChannelOptions(MaxQueuedEvents)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
        AllowSynchronousContinuations = false,
    });
    private readonly PriorityQueue<TimerId, long> _timersByDueMicros = new();

    /// <summary>Completions of the sync being reported; touched only by the storage I/O thread.</summary>
    private readonly List<StorageCompletion> _storageBatch = new();

    /// <summary>Events raised on the loop thread itself (a failed send): run right after the current event returns, never re-entrantly.</summary>
    private readonly Queue<LoopEvent> _deferred = new();
    private readonly LoopWake _wake = new();
    private readonly Func<bool> _hasWork;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private MeteoraNode? _node;
    private long _eventsRun;
    private volatile bool _started;
    private volatile bool _faulted;

    public EventLoop(ILogger<EventLoop> logger)
    {
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _thread = new Thread(Run) { IsBackground = true, Name = "meteora-event-loop" };
        _hasWork = () => _events.Reader.Count > 0 || _events.Reader.Completion.IsCompleted;
    }

    public long EventsRun => Interlocked.Read(ref _eventsRun);

    /// <summary>Events waiting in the channel now.</summary>
    public int QueuedEvents => _events.Reader.Count;

    /// <summary>Time per event and timer; set before <see cref="Start"/>.</summary>
    public Metrics.EventLoopMetrics? Metrics { get; set; }

    public bool IsOnLoopThread => Thread.CurrentThread == _thread;

    /// <summary>True once the engine threw: the loop runs no more events.</summary>
    public bool IsFaulted => _faulted;

    /// <summary>Raised once, on the loop thread, when the engine threw (fail-stop).</summary>
    public event Action<Exception>? Faulted;

    /// <summary>Starts the loop for <paramref name="node"/>. Events posted earlier wait in the channel.</summary>
    public void Start(MeteoraNode node)
    {
        if (_node is not null) throw new InvalidOperationException("event loop already started");
        _node = node ?? throw new ArgumentNullException(nameof(node));
        _started = true;
        _thread.Start();
    }

    /// <summary>Queues an event, waiting while the loop is saturated. Returns false once the loop has stopped.</summary>
    public ValueTask PostAsync(LoopEvent loopEvent, CancellationToken cancellationToken = default)
    {
        if (_events.Writer.TryWrite(loopEvent))
        {
            _wake.AfterPost();
            return ValueTask.CompletedTask;
        }
        return PostSlowAsync(loopEvent, cancellationToken);
    }

    private async ValueTask PostSlowAsync(LoopEvent loopEvent, CancellationToken cancellationToken)
    {
        try
        {
            await _events.Writer.WriteAsync(loopEvent, cancellationToken).ConfigureAwait(false);
            _wake.AfterPost();
        }
        catch (ChannelClosedException e)
        {
            loopEvent.Abandon(new ObjectDisposedException("the node is shutting down", e));
        }
    }

    /// <summary>Runs <paramref name="call"/> on the loop (the only thread that may touch the node) and returns its result.</summary>
    public async Task<T> CallAsync<T>(Func<MeteoraNode, T> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var loopCall = new LoopCallEvent<T>(call);
        await PostAsync(loopCall, cancellationToken).ConfigureAwait(false);
        return await loopCall.Result.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocking post for threads that are not async (the storage I/O thread).</summary>
    public void Post(LoopEvent loopEvent)
    {
        if (_events.Writer.TryWrite(loopEvent))
        {
            _wake.AfterPost();
            return;
        }
        PostSlowAsync(loopEvent, CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Collects one sync's completions; only the storage I/O thread calls this and <see cref="OnStorageBatchCompleted"/>.</summary>
    public void OnStorageCompleted(long completionToken, bool durable)
    {
        _storageBatch.Add(new StorageCompletion(completionToken, durable));
        if (_storageBatch.Count >= MaxCompletionsPerEvent) OnStorageBatchCompleted();
    }

    /// <summary>Posts the collected completions as one event (blocking the I/O thread while the loop is full: backpressure).</summary>
    public void OnStorageBatchCompleted()
    {
        if (_storageBatch.Count == 0) return;
        StorageCompletion[] completions = _storageBatch.ToArray();
        _storageBatch.Clear();
        Post(new StorageCompletedEvent(completions));
    }

    /// <summary>
    /// The transport could not send <paramref name="message"/>. On the loop thread (inside the engine's
    /// own Send) the report is deferred until the current event returns; from another thread it is
    /// posted without blocking the caller.
    /// </summary>
    public void OnSendFailed(int toNode, Message message)
    {
        var failed = new SendFailedEvent(toNode, message);
        if (IsOnLoopThread)
        {
            _deferred.Enqueue(failed);
            return;
        }
        if (_events.Writer.TryWrite(failed))
        {
            _wake.AfterPost();
            return;
        }
        _ = Task.Run(async () => await PostAsync(failed).ConfigureAwait(false));
    }

    /// <summary>Engine timers: kept on the loop itself, so they need no lock and fire in due order.</summary>
    public void StartTimer(TimerId timer, long delayMicros)
    {
        if (!IsOnLoopThread && _started) throw new InvalidOperationException("timers may only be started on the event loop thread");
        if (delayMicros < 0) throw new ArgumentOutOfRangeException(nameof(delayMicros), delayMicros, "delay must be non-negative");
        _timersByDueMicros.Enqueue(timer, NowMicros() + delayMicros);
    }

    private static long NowMicros() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    private void Run()
    {
        MeteoraNode node = _node!;
        ChannelReader<LoopEvent> reader = _events.Reader;
        while (!_faulted)
        {
            int ran = 0;
            long mark = Stopwatch.GetTimestamp();
            while (ran < MaxEventsPerTurn && !_faulted && reader.TryRead(out LoopEvent? loopEvent))
            {
                Metrics?.ObserveQueueWait(Stopwatch.GetElapsedTime(loopEvent.PostedTimestamp, mark));
                // Counted before it runs, so whoever sees the event's effect also sees it counted.
                Volatile.Write(ref _eventsRun, _eventsRun + 1);
                Execute(node, loopEvent);
                RunDeferred(node);
                ran++;
                mark = ObserveSince(mark);
            }
            ran += FireDueTimers(node);
            if (ran > 0) CheckInvariants(node);
            if (ran > 0 || _faulted) continue;

            // Idle: sleep until an event arrives or the next timer is due.
            int waitMs = Timeout.Infinite;
            if (_timersByDueMicros.TryPeek(out _, out long dueMicros))
            {
                waitMs = (int)Math.Clamp((dueMicros - NowMicros() + 999) / 1000, 0, int.MaxValue);
                if (waitMs == 0) continue;
            }
            _wake.Sleep(_hasWork, waitMs);
            if (reader.Completion.IsCompleted) break;
        }
        if (_faulted) AbandonQueued(new InvalidOperationException("the node stopped after an engine failure"));
        _logger.LogDebug("event loop stopped after {Events} events", EventsRun);
    }

    /// <summary>Fires every timer that is due; returns how many fired.</summary>
    private int FireDueTimers(MeteoraNode node)
    {
        int fired = 0;
        long mark = Stopwatch.GetTimestamp();
        long now = NowMicros();
        while (!_faulted && _timersByDueMicros.TryPeek(out TimerId timer, out long dueMicros) && dueMicros <= now)
        {
            _timersByDueMicros.Dequeue();
            try
            {
                node.OnTimer(timer);
            }
            catch (Exception e)
            {
                Fail(e, $"timer {timer}");
            }
            RunDeferred(node);
            fired++;
            mark = ObserveSince(mark);
        }
        return fired;
    }

    private void RunDeferred(MeteoraNode node)
    {
        while (!_faulted && _deferred.TryDequeue(out LoopEvent? deferred)) Execute(node, deferred);
    }

    private void Execute(MeteoraNode node, LoopEvent loopEvent)
    {
        try
        {
            loopEvent.Run(node);
        }
        catch (Exception e)
        {
            loopEvent.Abandon(e);
            Fail(e, loopEvent.GetType().Name);
        }
    }

    /// <summary>
    /// Records the time since <paramref name="mark"/> as one event's and returns now. Events run back to
    /// back, so one timestamp per event serves as the end of one and the start of the next (a timestamp
    /// costs 50-70 ns on this kind of VM, as much as the histogram update itself).
    /// </summary>
    private long ObserveSince(long mark)
    {
        long now = Stopwatch.GetTimestamp();
        Metrics?.ObserveEvent(Stopwatch.GetElapsedTime(mark, now));
        return now;
    }

    private void CheckInvariants(MeteoraNode node)
    {
        try
        {
            node.CheckInvariants();
        }
        catch (Exception e)
        {
            Fail(e, "invariant check");
        }
    }

    /// <summary>
    /// Fail-stop: inputs that are merely bad never reach the engine as exceptions (the codec and the
    /// HTTP layer reject them), so an engine exception means its state is broken. Continuing would
    /// risk acking what is not stored; stopping loses nothing a restart and repair cannot recover.
    /// </summary>
    private void Fail(Exception e, string what)
    {
        if (_faulted) return;
        _faulted = true;
        _logger.LogCritical(e, "engine failed handling {Input}; stopping the node (fail-stop)", what);
        _events.Writer.TryComplete();
        Faulted?.Invoke(e);
    }

    /// <summary>Stops accepting events, runs the ones already queued, and joins the thread.</summary>
    public void Stop()
    {
        _events.Writer.TryComplete();
        _wake.WakeForStop();
        if (_thread.IsAlive) _thread.Join();
        _deferred.Clear();
        AbandonQueued(new ObjectDisposedException("the node is shutting down"));
    }

    private void AbandonQueued(Exception reason)
    {
        while (_events.Reader.TryRead(out LoopEvent? leftover)) leftover.Abandon(reason);
    }

    public void Dispose() => Stop();
}

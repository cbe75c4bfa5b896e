using Meteora.Engine.Storage;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>RocksDB store in a temp directory; completions arrive from its I/O thread.</summary>
public sealed class RocksDbStorageHarness : IStorageHarness, IStorageCompletionSink
{
    public const int CompletionTimeoutMs = 20_000;

    private readonly TempDir _dir = new("meteora-rocks");
    private readonly List<Completion> _completions = new();
    private readonly List<int> _completionThreads = new();
    private readonly object _gate = new();
    private RocksDbStorage _storage;

    public RocksDbStorageHarness() => _storage = RocksDbStorage.Open(_dir.Path, this);

    public IStorage Storage => _storage;

    public RocksDbStorage Rocks => _storage;

    public IReadOnlyList<int> CompletionThreads
    {
        get { lock (_gate) return [.. _completionThreads]; }
    }

    /// <summary>While set and not yet released, the I/O thread's first completion callback waits here (to pile up writes behind one sync).</summary>
    public ManualResetEventSlim? HoldFirstCompletion { get; set; }

    /// <summary>Set once the I/O thread is inside its first completion callback.</summary>
    public ManualResetEventSlim FirstCompletionArrived { get; } = new();

    public void OnStorageCompleted(long completionToken, bool durable)
    {
        if (!FirstCompletionArrived.IsSet)
        {
            FirstCompletionArrived.Set();
            HoldFirstCompletion?.Wait(CompletionTimeoutMs);
        }
        lock (_gate)
        {
            _completions.Add(new Completion(completionToken, durable));
            _completionThreads.Add(Environment.CurrentManagedThreadId);
            Monitor.PulseAll(_gate);
        }
    }

    public IReadOnlyList<Completion> Completed()
    {
        lock (_gate) return [.. _completions];
    }

    public IReadOnlyList<Completion> CompleteAll(int expectedTotal)
    {
        lock (_gate)
        {
            var deadline = DateTime.UtcNow.AddMilliseconds(CompletionTimeoutMs);
            while (_completions.Count < expectedTotal)
            {
                int leftMs = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
                if (leftMs <= 0) throw new TimeoutException($"{_completions.Count} of {expectedTotal} completions after {CompletionTimeoutMs} ms");
                Monitor.Wait(_gate, leftMs);
            }
            return [.. _completions];
        }
    }

    /// <summary>Closes and reopens the database (what a process restart sees).</summary>
    public void Restart()
    {
        _storage.Dispose();
        _storage = RocksDbStorage.Open(_dir.Path, this);
    }

    public void Dispose()
    {
        _storage.Dispose();
        _dir.Dispose();
    }
}

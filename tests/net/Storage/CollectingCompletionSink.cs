using Meteora.Net.Storage;

namespace Meteora.Tests.Net.Storage;

/// <summary>Storage completions as they arrive (on the I/O thread), for tests that wait for the first few.</summary>
internal sealed class CollectingCompletionSink : IStorageCompletionSink
{
    private readonly List<Completion> _completions = [];

    public void OnStorageCompleted(long completionToken, bool durable)
    {
        lock (_completions)
        {
            _completions.Add(new Completion(completionToken, durable));
            Monitor.PulseAll(_completions);
        }
    }

    public List<Completion> WaitFor(int count)
    {
        lock (_completions)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (_completions.Count < count)
            {
                int leftMs = (int)(deadline - DateTime.UtcNow).TotalMilliseconds;
                if (leftMs <= 0) throw new TimeoutException($"{_completions.Count} of {count} completions");
                Monitor.Wait(_completions, leftMs);
            }
            return [.. _completions];
        }
    }
}

using Meteora.Engine.Storage;

namespace Meteora.Tests.Net.Storage;

/// <summary>The engine's in-memory store; the harness plays the disk by completing the oldest pending write.</summary>
public sealed class InMemoryStorageHarness : IStorageHarness
{
    private readonly InMemoryStorage _storage = new();
    private readonly List<Completion> _completions = new();

    public IStorage Storage => _storage;

    public IReadOnlyList<Completion> CompleteAll(int expectedTotal)
    {
        while (_storage.PendingCount > 0) _completions.Add(new Completion(_storage.CompleteOldest(true), true));
        return _completions;
    }

    public void Restart() => _storage.Crash();

    public void Dispose()
    {
    }
}

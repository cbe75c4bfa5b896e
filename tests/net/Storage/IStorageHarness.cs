using Meteora.Engine.Storage;

namespace Meteora.Tests.Net.Storage;

/// <summary>Drives one storage implementation for the shared contract tests.</summary>
public interface IStorageHarness : IDisposable
{
    IStorage Storage { get; }

    /// <summary>Lets every submitted operation finish and returns the completions seen so far, in arrival order.</summary>
    IReadOnlyList<Completion> CompleteAll(int expectedTotal);

    /// <summary>A crash and restart: only what completed durably may survive.</summary>
    void Restart();
}

public readonly record struct Completion(long Token, bool Durable);

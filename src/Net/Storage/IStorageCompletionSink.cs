namespace Meteora.Net.Storage;

/// <summary>
/// Where a store reports completions. Called from the store's I/O thread, in submission order;
/// the implementation hands them to the node's event loop (the engine must only be called there).
/// </summary>
public interface IStorageCompletionSink
{
    void OnStorageCompleted(long completionToken, bool durable);

    /// <summary>
    /// Called after the completions of one WAL sync have been reported, so a sink may hand the whole
    /// group to its consumer at once (one loop event per fsync instead of one per write).
    /// </summary>
    void OnStorageBatchCompleted()
    {
    }
}

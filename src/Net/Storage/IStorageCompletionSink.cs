namespace Meteora.Net.Storage;

/// <summary>
/// Where a store reports completions. Called from the store's I/O thread, in submission order;
/// the implementation hands them to the node's event loop (the engine must only be called there).
/// </summary>
public interface IStorageCompletionSink
{
    void OnStorageCompleted(long completionToken, bool durable);
}

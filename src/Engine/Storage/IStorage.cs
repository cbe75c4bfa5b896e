using Meteora.Engine.Versioning;

namespace Meteora.Engine.Storage;

/// <summary>
/// A replica's local store. Reads answer at once. A write is visible to reads at once; its
/// durability is reported later by the host calling <see cref="IStorageListener.OnStorageCompleted"/>
/// with the write's completion token, on the node's event loop. Completions arrive in submission order
/// (the store is a log). A failed completion means the write is not durable and not visible.
/// </summary>
public interface IStorage
{
    bool TryGet(int partition, string key, out StoredValue value);

    void Write(int partition, string key, StoredValue value, long completionToken);

    /// <summary>Completes once every write submitted before it is durable.</summary>
    void Sync(long completionToken);
}

public interface IStorageListener
{
    void OnStorageCompleted(long completionToken, bool durable);
}

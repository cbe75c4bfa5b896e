using Meteora.Engine.Handoff;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Storage;

/// <summary>
/// A replica's local store. Reads answer at once. A write is visible to reads at once; its
/// durability is reported later by the host calling <c>MeteoraNode.OnStorageCompleted</c>
/// with the write's completion token, on the node's event loop. Completions arrive in submission order
/// (the store is a log). A failed completion means the write is not durable and not visible.
/// </summary>
public interface IStorage
{
    bool TryGet(int partition, string key, out StoredValue value);

    void Write(int partition, string key, StoredValue value, long completionToken);

    /// <summary>Completes once every write submitted before it is durable.</summary>
    void Sync(long completionToken);

    /// <summary>
    /// Appends to <paramref name="output"/> up to <paramref name="maxCount"/> visible entries of the
    /// partition whose token-high-64 (<see cref="StorageOrder.TokenHigh64"/>) lies in
    /// <paramref name="range"/> and that come strictly after <paramref name="afterKey"/> in
    /// <see cref="StorageOrder"/> (null: from the start of the range), in that order; returns how many
    /// were added. A Merkle leaf is one range (<see cref="Merkle.MerkleTree.LeafRange"/>), so a leaf
    /// costs a scan of that leaf only; <see cref="TokenRange.All"/> walks the whole partition. Used for
    /// Merkle rebuilds and anti-entropy, always in bounded slices.
    /// </summary>
    int Scan(int partition, TokenRange range, string? afterKey, List<KeyValuePair<string, StoredValue>> output, int maxCount) =>
        throw new NotSupportedException($"{GetType().Name} cannot scan partitions");

    /// <summary>
    /// Physically removes a tombstone whose grace period is over, if the key still holds exactly
    /// <paramref name="tombstone"/>. Visible at once; completes like a write.
    /// </summary>
    void Purge(int partition, string key, WriteVersion tombstone, long completionToken) =>
        throw new NotSupportedException($"{GetType().Name} cannot purge tombstones");

    /// <summary>
    /// Removes every entry of the partition (this node no longer replicates it and has handed it off).
    /// Visible at once; completes like a write.
    /// </summary>
    void DropPartition(int partition, long completionToken) =>
        throw new NotSupportedException($"{GetType().Name} cannot drop partitions");

    /// <summary>The ring state last saved with <see cref="WriteRingState"/>, or null.</summary>
    byte[]? ReadRingState() => null;

    /// <summary>Saves the node's ring state (membership survives restarts); durable when it returns.</summary>
    void WriteRingState(byte[] encoded) =>
        throw new NotSupportedException($"{GetType().Name} cannot persist the ring state");

    /// <summary>Whether <see cref="WriteHint"/> works; a store without hints makes this node refuse to be a fallback (it nacks hinted writes).</summary>
    bool SupportsHints => false;

    /// <summary>
    /// Stores a hint (a write this node keeps for a replica that was down) apart from the replica data
    /// (RocksDB: the <c>hints</c> column family, keyed by target then sequence). Visible to
    /// <see cref="ReadHints"/> at once; completes like a write, in the same submission order.
    /// </summary>
    void WriteHint(Hint hint, long completionToken) =>
        throw new NotSupportedException($"{GetType().Name} cannot store hints");

    /// <summary>Removes a hint (delivered, or dropped). Visible at once; completes like a write. A failed delete leaves the hint in place.</summary>
    void DeleteHint(int target, long sequence, long completionToken) =>
        throw new NotSupportedException($"{GetType().Name} cannot store hints");

    /// <summary>Appends every hint this store holds to <paramref name="output"/>, by target then sequence (a restart reloads them).</summary>
    void ReadHints(List<Hint> output)
    {
    }

    /// <summary>Keys and bytes this store holds, estimated (for status pages; never used for decisions).</summary>
    (long Keys, long Bytes) EstimateSize() => (0, 0);
}

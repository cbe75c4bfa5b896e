using Meteora.Engine.Versioning;

namespace Meteora.Checking;

/// <summary>What one replica holds locally for a key at the end of a run (null: nothing, not even a tombstone).</summary>
public readonly record struct ReplicaValue(int Node, StoredValue? Value);

/// <summary>
/// The final state of every replica, as the checker sees it: for a key, each replica in its preference
/// list order with what that replica holds locally. The simulator reads its in-memory disks; real mode
/// reads each node's local copy through an admin endpoint, never through a quorum read.
/// </summary>
public interface IReplicaView
{
    IReadOnlyList<ReplicaValue> ReplicasOf(string key);
}

/// <summary>A replica view from a snapshot taken beforehand (real mode), one entry per key.</summary>
public sealed class SnapshotReplicaView(IReadOnlyDictionary<string, IReadOnlyList<ReplicaValue>> byKey) : IReplicaView
{
    public IReadOnlyList<ReplicaValue> ReplicasOf(string key) =>
        byKey.TryGetValue(key, out var replicas) ? replicas : throw new KeyNotFoundException($"the snapshot has no replicas of key {key}");
}

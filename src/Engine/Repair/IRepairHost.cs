using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>What anti-entropy needs from its node: identity, ids, timers, sending, local storage.</summary>
internal interface IRepairHost
{
    int NodeId { get; }
    ReplicaPlacement Placement { get; }
    IStorage Storage { get; }
    long NowMicros { get; }
    long NewRequestId();
    void StartTimer(long timerId, long delayMs);

    /// <summary>Sends and returns the encoded size in bytes (for the job's bytesSent).</summary>
    int Send(int toNode, Message message);

    /// <summary>Stores a repaired version locally if it is newer (no ack).</summary>
    void ApplyRepair(int partition, string key, StoredValue value);

    /// <summary>Physically removes an expired tombstone.</summary>
    void PurgeTombstone(int partition, string key, WriteVersion tombstone);

    bool SkipsFirstLeaf { get; }
}

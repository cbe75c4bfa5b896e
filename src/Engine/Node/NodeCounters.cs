namespace Meteora.Engine.Node;

/// <summary>
/// Monotonic counts of what a node's rooms did, for operators (real mode exports them to Prometheus).
/// Only the node's event loop writes them, with plain increments (the engine has no shared-memory
/// concurrency); a host that reads them from another thread uses <c>Volatile.Read</c> and may see a
/// slightly older value, never a torn one (64-bit fields on a 64-bit runtime). They never feed back
/// into what the node decides, so counting cannot change a simulation's trace.
/// </summary>
public sealed class NodeCounters
{
    /// <summary>Coordinator: positive write acks from replicas.</summary>
    public long ReplicaWriteAcks;

    /// <summary>Coordinator: write nacks, plus writes the transport could not send.</summary>
    public long ReplicaWriteFailures;

    /// <summary>Coordinator: read replies from replicas.</summary>
    public long ReplicaReadReplies;

    /// <summary>Coordinator: reads the transport could not send.</summary>
    public long ReplicaReadFailures;

    /// <summary>Coordinator: writes sent to a fallback node with a hint, because a primary was unreachable.</summary>
    public long HintedWritesSent;

    /// <summary>Replica: replayed hints acked without storing, because they are older than the tombstone grace period and the key is absent (a purged tombstone may have deleted them).</summary>
    public long HintsObsolete;

    /// <summary>Replica: replayed hints refused because HintOptions.MaxReplaysApplying replays were being applied (the fallback retries).</summary>
    public long HintReplaysRefused;

    /// <summary>Handoff: hints held now and their bytes (gauges), and since start hints stored, delivered, dropped past the window, and refused by the bounds.</summary>
    public long HintsPending;
    public long HintsBytesPending;
    public long HintsStored;
    public long HintsDelivered;
    public long HintsDropped;
    public long HintsRefused;

    /// <summary>Coordinator: read-repair messages sent to stale replicas.</summary>
    public long ReadRepairsSent;

    /// <summary>Coordinator: requests that failed because their timeout fired before R or W answered.</summary>
    public long QuorumTimeouts;

    /// <summary>Anti-entropy: background repair rounds started (every AntiEntropyIntervalMs).</summary>
    public long AntiEntropyRounds;

    /// <summary>Anti-entropy: repair jobs started, background rounds and on-demand jobs alike.</summary>
    public long RepairJobsStarted;

    public long RepairJobsDone;

    /// <summary>Jobs in which at least one partition session ran out of retries.</summary>
    public long RepairJobsFailed;

    public long RepairSessionsFailed;

    /// <summary>Keys a finished repair session pushed or pulled.</summary>
    public long KeysRepaired;

    /// <summary>Encoded bytes of the repair messages a finished session sent.</summary>
    public long RepairBytesSent;

    /// <summary>Streaming: bytes of entries pulled by transfer and handoff sessions.</summary>
    public long StreamBytesReceived;

    /// <summary>Streaming: entries pulled by transfer sessions.</summary>
    public long StreamKeysReceived;

    /// <summary>Streaming: partitions this node verified it holds for a ring change and reported to the claimant.</summary>
    public long TransfersVerified;
}

namespace Meteora.Engine.Repair;

public enum RepairState
{
    Idle,
    Comparing,
    Streaming,
    Done,
    Failed,
}

/// <summary>A repair job's progress, as <c>GET /meteora/repair/{id}</c> reports it.</summary>
public sealed record RepairStatus(
    string RepairId,
    string State,
    int PartitionsTotal,
    int PartitionsDone,
    long KeysRepaired,
    long BytesSent,
    long StartedAtMicros,
    long? FinishedAtMicros,
    int SessionsFailed,
    bool Background);

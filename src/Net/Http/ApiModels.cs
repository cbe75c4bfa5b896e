using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meteora.Net.Http;

// Response bodies of the HTTP API. Field names follow the original Meteora API; timestamps are the
// version's microseconds since the Unix epoch; version is the whole version, "TIMESTAMP.NODE" (the
// coordinator that wrote it breaks timestamp ties), so a history checker can tell versions apart.

public sealed record GetResponse(string Key, string Value, long Timestamp, int ReadConsistency, string Version);

public sealed record SetResponse(string Key, string Value, long Timestamp, int WriteConsistency, string Version);

public sealed record DeleteResponse(string Key, long Timestamp, int WriteConsistency, bool Deleted, string Version);

public sealed record ErrorResponse(string Error);

/// <summary>404 from a get: version is the newest tombstone the replicas held (null: none had the key).</summary>
public sealed record NotFoundResponse(string Error, string? Version);

/// <summary>
/// <c>GET /meteora/admin/replica/{key}</c>: what this node holds locally for the key, no quorum, no
/// read repair. replica: whether the ring places the key on this node.
/// </summary>
public sealed record ReplicaValueResponse(string Key, int Node, bool Replica, bool Exists, bool Tombstone, string? Value, long Timestamp, string? Version);

public sealed record UnavailableResponse(string Error, int Acks, int Required);

/// <summary>pendingReplicas: nodes that receive the partition's writes (uncounted) while the change in progress moves it to them.</summary>
public sealed record RingPartition(int Partition, int Owner, int[] PreferenceList, int[] PendingReplicas);

public sealed record RingNodeLoad(int Node, int PartitionsOwned, int PartitionsReplicated);

public sealed record RingResponse(int Partitions, int ReplicationFactor, int[] Nodes, RingNodeLoad[] Load, double ReplicaLoadImbalance, RingPartition[] Ring,
    long? Version, int? Claimant, RingMember[]? Members, string? PendingChange, int PendingTransfers);

/// <summary>A ring member as the node's ring state has it: status joining, normal or leaving; up from the failure detector (null: the loop did not answer).</summary>
public sealed record RingMember(int Id, string Address, string Status, bool? Up);

/// <summary>
/// One row of <c>GET /meteora/status</c>: a member as this node knows it. keys, bytes, partitionsHeld,
/// hintsPending (hints it holds for replicas that were down) and ringVersion are what the member reported
/// of itself in its last heartbeat (this node: now); null when none arrived. ringVersionDiffers: it reports
/// another ring version than this node holds.
/// </summary>
public sealed record StatusMember(int Id, string Address, bool? Up, string Status, string State, long? Keys, long? Bytes,
    int PartitionsOwned, int PartitionsReplicated, int? PartitionsHeld, long? HintsPending, long? RingVersion, bool RingVersionDiffers, bool Self);

/// <summary><c>GET /meteora/status</c>: this node's ring (version, claimant, change in progress) and one row per member.</summary>
public sealed record StatusResponse(int Node, long RingVersion, int Claimant, string? Change, int PendingTransfers, StatusMember[] Members);

/// <summary>202 from <c>POST /meteora/admin/leave</c> and <c>/meteora/admin/remove/{id}</c>: the claimant accepted the change at that ring version.</summary>
public sealed record RingChangeAccepted(bool Ok, long RingVersion, string Change);

/// <summary>409 from a ring change while another runs: error names it; change is the running change.</summary>
public sealed record RingChangeConflict(string Error, string? Change);

public sealed record PeerHealth(int Id, string Address, string State, bool Up, double? Phi, long StateChangedUnixMs, long SentFrames, long DroppedFrames, int QueuedFrames);

public sealed record HealthResponse(int Node, string Status, long UptimeMs, double PhiThreshold, int[] Up, int[] Down, PeerHealth[] Peers);

/// <summary>202 from <c>POST /meteora/repair</c>.</summary>
public sealed record RepairStartedResponse(string RepairId);

/// <summary>409 from <c>POST /meteora/repair</c> while a job runs: the error names the running job.</summary>
public sealed record RepairConflictResponse(string Error, string RepairId);

/// <summary><c>GET /meteora/repair/{id}</c>: startedAt/finishedAt are ISO-8601 UTC (finishedAt null while running).</summary>
public sealed record RepairStatusResponse(
    string RepairId,
    string State,
    int PartitionsTotal,
    int PartitionsDone,
    long KeysRepaired,
    long BytesSent,
    string StartedAt,
    string? FinishedAt,
    int SessionsFailed,
    bool Background)
{
    public static RepairStatusResponse From(Meteora.Engine.Repair.RepairStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new RepairStatusResponse(status.RepairId, status.State, status.PartitionsTotal, status.PartitionsDone, status.KeysRepaired,
            status.BytesSent, IsoUtc(status.StartedAtMicros), status.FinishedAtMicros is { } f ? IsoUtc(f) : null, status.SessionsFailed, status.Background);
    }

    /// <summary>Microseconds since the Unix epoch as "2025-01-31T12:34:56.123456Z".</summary>
    public static string IsoUtc(long unixMicros) =>
        DateTime.UnixEpoch.AddTicks(unixMicros * (TimeSpan.TicksPerMillisecond / 1000))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Anti-entropy settings and the running job (null when none runs, or when the loop did not answer in time).</summary>
public sealed record RepairMetrics(int MerkleDepth, long AntiEntropyIntervalMs, long TombstoneGraceMs, long? TombstonesPurged, RepairStatusResponse? Running);

public sealed record MetricsResponse(
    int Node,
    long LoopEvents,
    long StorageCompletions,
    long StorageWalSyncs,
    long PeerFramesReceived,
    long PeerConnectionsAccepted,
    long PeerConnectionsRejected,
    long PeerFramesSent,
    long PeerFramesDropped,
    long PeerSendFailuresReported,
    long PeerAuthenticationFailures,
    long HttpConnectionsRefused,
    RepairMetrics Repair,
    HintMetrics? Hints);

/// <summary>
/// Hinted handoff on this node (null when the loop did not answer in time): hints held now
/// (<see cref="Pending"/>, <see cref="BytesPending"/>) and, since start, stored, delivered (the owner
/// acked durably), dropped (past the window), refused (bounds full); writes this node coordinated that
/// went to a fallback (<see cref="HintedWritesSent"/>); replayed hints this node ignored as older than
/// the tombstone grace period (<see cref="Obsolete"/>); replays from fallbacks this node refused because it
/// was applying its bound of them at once (<see cref="ReplaysRefused"/>). Per target: the hints held for each node.
/// </summary>
public sealed record HintMetrics(long Pending, long Stored, long Delivered, long Dropped, long BytesPending, long Refused,
    long HintedWritesSent, long Obsolete, long ReplaysRefused, IReadOnlyList<HintTargetMetrics> PerTarget)
{
    public static HintMetrics From(Meteora.Engine.Handoff.HintStats stats, Meteora.Engine.Node.NodeCounters counters)
    {
        var perTarget = new List<HintTargetMetrics>(stats.PerTarget.Count);
        foreach (var t in stats.PerTarget) perTarget.Add(new HintTargetMetrics(t.Target, t.Pending, t.Stored, t.Delivered, t.Dropped, t.BytesPending));
        return new HintMetrics(stats.Pending, stats.Stored, stats.Delivered, stats.Dropped, stats.BytesPending, stats.Refused,
            counters.HintedWritesSent, counters.HintsObsolete, counters.HintReplaysRefused, perTarget);
    }
}

public sealed record HintTargetMetrics(int Target, long Pending, long Stored, long Delivered, long Dropped, long BytesPending);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(GetResponse))]
[JsonSerializable(typeof(SetResponse))]
[JsonSerializable(typeof(DeleteResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(NotFoundResponse))]
[JsonSerializable(typeof(ReplicaValueResponse))]
[JsonSerializable(typeof(UnavailableResponse))]
[JsonSerializable(typeof(RingResponse))]
[JsonSerializable(typeof(RingMember))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(RingChangeAccepted))]
[JsonSerializable(typeof(RingChangeConflict))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(MetricsResponse))]
[JsonSerializable(typeof(RepairStartedResponse))]
[JsonSerializable(typeof(RepairConflictResponse))]
[JsonSerializable(typeof(RepairStatusResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The generated options (camelCase names), so serializing takes the generator's direct-write
    /// path instead of walking property metadata: custom options (they only added the relaxed
    /// encoder) turned that path off, and the metadata walk showed in the thread-pool profile under
    /// set load (issue 11). Escaping is set on the writer (<see cref="JsonReplies"/>).
    /// </summary>
    public static ApiJsonContext Api => Default;
}

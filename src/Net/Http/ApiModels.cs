using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meteora.Net.Http;

// Response bodies of the HTTP API. Field names follow the original Meteora API; timestamps are the
// version's microseconds since the Unix epoch.

public sealed record GetResponse(string Key, string Value, long Timestamp, int ReadConsistency);

public sealed record SetResponse(string Key, string Value, long Timestamp, int WriteConsistency);

public sealed record DeleteResponse(string Key, long Timestamp, int WriteConsistency, bool Deleted);

public sealed record ErrorResponse(string Error);

public sealed record UnavailableResponse(string Error, int Acks, int Required);

public sealed record RingPartition(int Partition, int Owner, int[] PreferenceList);

public sealed record RingNodeLoad(int Node, int PartitionsOwned, int PartitionsReplicated);

public sealed record RingResponse(int Partitions, int ReplicationFactor, int[] Nodes, RingNodeLoad[] Load, double ReplicaLoadImbalance, RingPartition[] Ring);

public sealed record PeerHealth(int Id, string Address, string State, bool Up, long StateChangedUnixMs, long SentFrames, long DroppedFrames, int QueuedFrames);

public sealed record HealthResponse(int Node, string Status, long UptimeMs, int[] Up, int[] Down, PeerHealth[] Peers);

public sealed record MetricsResponse(
    int Node,
    long LoopEvents,
    long StorageCompletions,
    long StorageWalSyncs,
    long PeerFramesReceived,
    long PeerConnectionsAccepted,
    long PeerConnectionsRejected,
    long PeerFramesSent,
    long PeerFramesDropped);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(GetResponse))]
[JsonSerializable(typeof(SetResponse))]
[JsonSerializable(typeof(DeleteResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(UnavailableResponse))]
[JsonSerializable(typeof(RingResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(MetricsResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Responses are served as application/json (never embedded in HTML), so the relaxed encoder is
    /// safe and keeps keys like <c>o'neil</c> or non-ASCII text readable instead of \u-escaped.
    /// </summary>
    public static ApiJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

using System.Net;
using System.Text;
using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Hashing;
using Meteora.Engine.Ring;
using Meteora.Engine.Versioning;

namespace Meteora.Nemesis;

/// <summary>
/// Every replica's own copy of every written key, read through each node's
/// <c>GET /meteora/admin/replica/{key}</c> (local storage only: no quorum, no read repair), in
/// preference-list order: the real-mode <see cref="IReplicaView"/> the shared checker reads.
/// </summary>
internal static class ReplicaSnapshot
{
    public const int ReadTimeoutMs = 5_000;

    public static async Task<(SnapshotReplicaView View, List<string> Unreadable)> TakeAsync(
        MeteoraClient client, IReadOnlyList<NodeProcess> nodes, ReplicaPlacement placement, IEnumerable<string> keys)
    {
        var byKey = new Dictionary<string, IReadOnlyList<ReplicaValue>>(StringComparer.Ordinal);
        var unreadable = new List<string>();
        foreach (string key in keys)
        {
            int partition = Token.OfKey(key).Partition(placement.PartitionCount);
            var replicas = new List<ReplicaValue>();
            foreach (int node in placement.PreferenceList(partition).ToArray())
            {
                string url = $"{nodes[node].BaseUrl}/meteora/admin/replica/{Uri.EscapeDataString(key)}";
                try
                {
                    (HttpStatusCode status, JsonElement body) = await client.GetJsonAsync(url, ReadTimeoutMs);
                    if (status != HttpStatusCode.OK) throw new HttpRequestException($"HTTP {(int)status}");
                    replicas.Add(new ReplicaValue(node, Parse(body)));
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or KeyNotFoundException)
                {
                    unreadable.Add($"node{node} key {key}: {e.Message}");
                }
            }
            byKey[key] = replicas;
        }
        return (new SnapshotReplicaView(byKey), unreadable);
    }

    public static StoredValue? Parse(JsonElement body)
    {
        if (!body.GetProperty("exists").GetBoolean()) return null;
        WriteVersion version = MeteoraClient.ParseVersion(body);
        if (body.GetProperty("tombstone").GetBoolean()) return StoredValue.Tombstone(version);
        return new StoredValue(version, Encoding.UTF8.GetBytes(body.GetProperty("value").GetString()!));
    }
}

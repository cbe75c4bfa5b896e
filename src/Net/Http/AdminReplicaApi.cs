using System.Text;
using Meteora.Engine.Hashing;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;
using Meteora.Net.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Http;

/// <summary>
/// <c>GET /meteora/admin/replica/{key}</c>: this node's own copy of a key, read from its storage on
/// the event loop: no quorum, no read repair, no effect on the data. A checker uses it to compare
/// every replica of a key after a test (convergence is a per-replica property; a quorum read would
/// hide a disagreeing replica and repair it). Admin endpoint: not part of the client API.
/// </summary>
public static class AdminReplicaApi
{
    public const string Prefix = "/meteora/admin/replica/";

    public static void Map(IEndpointRouteBuilder app) => app.MapGet(Prefix + "{*key}", (RequestDelegate)ReplicaValueAsync);

    private static async Task ReplicaValueAsync(HttpContext context)
    {
        string key = MeteoraHttpApi.KeyFromPath(context, Prefix);
        if (RequestValidation.CheckKey(key) is { } problem)
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, problem);
            return;
        }
        NodeRuntime runtime = context.RequestServices.GetRequiredService<NodeRuntime>();
        int partition = Token.OfKey(key).Partition(runtime.Config.Partitions);
        bool replica = runtime.Placement?.IsReplica(partition, runtime.Config.NodeId) ?? false;
        (bool answered, StoredValue? held) = await MeteoraHttpApi.CallLoopAsync(context,
            _ => runtime.Storage.TryGet(partition, key, out StoredValue value) ? value : null);
        if (!answered) return;
        var body = new ReplicaValueResponse(key, runtime.Config.NodeId, replica, held is not null, held?.IsTombstone ?? false,
            held is { IsTombstone: false } ? Encoding.UTF8.GetString(held.Value!) : null,
            held?.Version.TimestampMicros ?? 0, held?.Version.ToString());
        await JsonReplies.Write(context, StatusCodes.Status200OK, body, ApiJsonContext.Api.ReplicaValueResponse);
    }
}
